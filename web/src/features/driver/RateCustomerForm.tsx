import { useState, type FormEvent } from 'react';
import { useRateCustomer } from '../../api/driver.ts';
import { useOrderRatings } from '../../api/orders.ts';
import {
  Button,
  Card,
  ErrorNotice,
  Field,
  inputClass,
  Spinner,
  StarRating,
} from '../../components/ui.tsx';

/** After a delivery the driver rates the customer once (`POST /driver/orders/:id/rating`). */
export function RateCustomerForm({ orderId, onDone }: { orderId: string; onDone?: () => void }) {
  const ratings = useOrderRatings(orderId, true);
  const rate = useRateCustomer(orderId);
  const [stars, setStars] = useState<number>();
  const [comment, setComment] = useState('');

  if (ratings.isPending) return <Spinner label="Loading ratings…" />;
  const given = ratings.data?.find((r) => r.rateeKind === 'customer');
  if (given) {
    return (
      <Card>
        <div className="flex items-start justify-between gap-2">
          <div>
            <h2 className="font-semibold">You rated the customer</h2>
            <p className="text-sm text-slate-600">
              <span aria-label={`${given.stars} stars`}>{'★'.repeat(given.stars)}</span>
              {given.comment && <span className="text-slate-500"> · “{given.comment}”</span>}
            </p>
          </div>
          {onDone && (
            <Button variant="ghost" onClick={onDone}>
              Close
            </Button>
          )}
        </div>
      </Card>
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!stars) return;
    rate.mutate({ customerStars: stars, ...(comment.trim() ? { comment: comment.trim() } : {}) });
  };

  return (
    <Card>
      <form onSubmit={submit} className="space-y-3">
        <h2 className="font-semibold">Rate the customer</h2>
        {ratings.error && <ErrorNotice error={ratings.error} />}
        <StarRating
          name={`customer-stars-${orderId}`}
          legend="How was the handover?"
          value={stars}
          onChange={setStars}
        />
        <Field id={`customer-comment-${orderId}`} label="Comment (optional)">
          <textarea
            id={`customer-comment-${orderId}`}
            rows={2}
            maxLength={500}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            className={inputClass}
          />
        </Field>
        {rate.error && <ErrorNotice error={rate.error} />}
        <div className="flex gap-2">
          <Button type="submit" busy={rate.isPending} disabled={!stars}>
            Send rating
          </Button>
          {onDone && (
            <Button variant="ghost" onClick={onDone}>
              Skip
            </Button>
          )}
        </div>
      </form>
    </Card>
  );
}
