import { z } from 'zod';
import { Latitude, Longitude } from './common.ts';

/** Channels: `order:<id>`, `merchant:<id>`, `driver:<id>`, `fleet`; ids are lower-case UUIDs. */
export const Channel = z
  .string()
  .max(80)
  .regex(
    /^(order|merchant|driver):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^fleet$/,
    'unknown channel',
  );

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(200) }).strict(),
  z
    .object({
      type: z.literal('subscribe'),
      channel: Channel,
      lastEventId: z
        .string()
        .max(40)
        .regex(/^\d+-\d+$/)
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('unsubscribe'), channel: Channel }).strict(),
  z
    .object({
      type: z.literal('location'),
      lat: Latitude,
      lng: Longitude,
      heading: z.number().finite().min(0).max(360).optional(),
      speedMps: z.number().finite().min(0).max(100).optional(),
      accuracyM: z.number().finite().min(0).max(10_000).optional(),
      recordedAt: z.string().datetime().optional(),
      seq: z.number().int().min(0),
    })
    .strict(),
  z.object({ type: z.literal('ping') }).strict(),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export type LocationMessage = Extract<ClientMessage, { type: 'location' }>;

/** Close codes of `/ws`; 1012 (service restart) means "reconnect, possibly elsewhere". */
export const WsCloseCode = {
  serviceRestart: 1012,
  tooLarge: 1009,
  slowConsumer: 1013,
  unauthenticated: 4401,
  rateLimited: 4429,
} as const;

/** Every channel event: ids increase per channel; clients drop ids they have seen. */
export const ServerEvent = z.object({
  id: z.string(),
  type: z.string(),
  channel: z.string(),
  at: z.string(),
  data: z.unknown(),
});
export type ServerEvent = z.infer<typeof ServerEvent>;

export const WsErrorCode = z.enum([
  'UNAUTHENTICATED',
  'BAD_MESSAGE',
  'MESSAGE_TOO_LARGE',
  'FORBIDDEN',
  'TOO_MANY_SUBSCRIPTIONS',
  'RATE_LIMITED',
  'LOCATION_REJECTED',
  'UNAVAILABLE',
  'INTERNAL',
]);
export type WsErrorCode = z.infer<typeof WsErrorCode>;

export const ServerMessage = z.union([
  ServerEvent,
  z.object({ type: z.literal('ready'), userId: z.string(), role: z.string() }),
  z.object({ type: z.literal('subscribed'), channel: z.string(), replayed: z.number().int() }),
  z.object({ type: z.literal('unsubscribed'), channel: z.string() }),
  z.object({ type: z.literal('ack'), seq: z.number().int() }),
  z.object({ type: z.literal('pong') }),
  z.object({
    type: z.literal('error'),
    code: WsErrorCode,
    message: z.string(),
    channel: z.string().optional(),
    seq: z.number().int().optional(),
  }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** Payloads of the event types. */
export const DriverLocationEvent = z.object({
  orderId: z.string(),
  driverId: z.string(),
  lat: z.number(),
  lng: z.number(),
  heading: z.number().nullable(),
  recordedAt: z.string(),
});
export const EtaEvent = z.object({ orderId: z.string(), minutes: z.number(), at: z.string() });
