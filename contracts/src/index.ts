export * from './common.ts';
export * from './auth.ts';
export * from './catalog.ts';
export * from './orders.ts';
export * from './driver.ts';
export * from './notifications.ts';
export * from './ws.ts';
export * from './admin.ts';
