import type { Order } from '@delivery/contracts';
import { useState, type FormEvent } from 'react';
import { useOrderRatings, useRateOrder } from '../../api/orders.ts';
import {
  Button,
  Card,
  ErrorNotice,
  Field,
  inputClass,
  Spinner,
  StarRating,
} from '../../components/ui.tsx';

/** After delivery: rate the driver and the store once (`POST /orders/:id/rating`). */
export function RatingForm({ order }: { order: Order }) {
  const ratings = useOrderRatings(order.id, true);
  const rate = useRateOrder(order.id);
  const [driverStars, setDriverStars] = useState<number>();
  const [merchantStars, setMerchantStars] = useState<number>();
  const [comment, setComment] = useState('');

  if (ratings.isPending) return <Spinner label="Loading ratings…" />;
  const mine = (ratings.data ?? []).filter((r) => r.rateeKind !== 'customer');
  if (mine.length > 0) {
    return (
      <Card>
        <h2 className="font-semibold">Thanks for your rating</h2>
        <ul className="mt-1 text-sm text-slate-600">
          {mine.map((r) => (
            <li key={r.id}>
              {r.rateeKind === 'driver' ? 'Driver' : 'Store'}: {'★'.repeat(r.stars)}
              {r.comment && <span className="text-slate-500"> · “{r.comment}”</span>}
            </li>
          ))}
        </ul>
      </Card>
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    rate.mutate({
      ...(driverStars ? { driverStars } : {}),
      ...(merchantStars ? { merchantStars } : {}),
      ...(comment.trim() ? { comment: comment.trim() } : {}),
    });
  };

  return (
    <Card>
      <form onSubmit={submit} className="space-y-3">
        <h2 className="font-semibold">How was it?</h2>
        {ratings.error && <ErrorNotice error={ratings.error} />}
        {order.driverId && (
          <StarRating
            name="driver-stars"
            legend={`Driver${order.driver ? ` (${order.driver.name})` : ''}`}
            value={driverStars}
            onChange={setDriverStars}
          />
        )}
        <StarRating
          name="merchant-stars"
          legend={`Store (${order.merchantName})`}
          value={merchantStars}
          onChange={setMerchantStars}
        />
        <Field id="rating-comment" label="Comment (optional)">
          <textarea
            id="rating-comment"
            rows={2}
            maxLength={500}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            className={inputClass}
          />
        </Field>
        {rate.error && <ErrorNotice error={rate.error} />}
        <Button type="submit" busy={rate.isPending} disabled={!driverStars && !merchantStars}>
          Send rating
        </Button>
      </form>
    </Card>
  );
}
