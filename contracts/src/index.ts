export * from './common.ts';
export * from './auth.ts';
export * from './catalog.ts';
export * from './orders.ts';
