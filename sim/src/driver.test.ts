import { describe, expect, it } from 'vitest';
import { answeredBefore } from './driver.ts';
import { ApiError } from './http.ts';

const refused = (status: number, offerStatus?: string) =>
  new ApiError(status, 'OFFER_NOT_PENDING', 'This offer is not pending', {
    error: {
      code: 'OFFER_NOT_PENDING',
      message: 'This offer is not pending',
      ...(offerStatus ? { details: { offerStatus } } : {}),
    },
  });

describe('answeredBefore', () => {
  it('takes a 409 naming the status the answer would have set as the earlier answer', () => {
    expect(answeredBefore(refused(409, 'accepted'), true)).toBe(true);
    expect(answeredBefore(refused(409, 'rejected'), false)).toBe(true);
  });

  it('is false for any other refusal', () => {
    expect(answeredBefore(refused(409, 'rejected'), true)).toBe(false);
    expect(answeredBefore(refused(409, 'cancelled'), true)).toBe(false);
    expect(answeredBefore(refused(409, 'expired'), false)).toBe(false);
    expect(answeredBefore(refused(409), true)).toBe(false);
    expect(answeredBefore(refused(404, 'accepted'), true)).toBe(false);
    expect(answeredBefore(new Error('socket hang up'), true)).toBe(false);
  });
});
