import { useId } from 'react';

/**
 * Small hand-drawn SVG charts (no chart library): horizontal bars for categories, columns for a
 * series. Each has a caption and a hidden table with the same numbers for screen readers.
 */
export interface Bar {
  label: string;
  value: number;
  /** What to print at the bar's end (the value by default). */
  display?: string;
  color?: string;
}

const ROW = 26;
const LABEL_W = 128;
const WIDTH = 420;
const VALUE_W = 56;

function DataTable({ caption, bars }: { caption: string; bars: Bar[] }) {
  return (
    <table className="sr-only">
      <caption>{caption}</caption>
      <tbody>
        {bars.map((b) => (
          <tr key={b.label}>
            <th scope="row">{b.label}</th>
            <td>{b.display ?? b.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BarChart({
  title,
  bars,
  max,
  empty = 'No data yet.',
}: {
  title: string;
  bars: Bar[];
  /** The value of a full-length bar (the largest value by default). */
  max?: number;
  empty?: string;
}) {
  const id = useId();
  const top = Math.max(max ?? 0, ...bars.map((b) => b.value), 0);
  const track = WIDTH - LABEL_W - VALUE_W;
  const height = bars.length * ROW;
  return (
    <figure className="space-y-2">
      <figcaption id={id} className="text-sm font-medium text-slate-700">
        {title}
      </figcaption>
      {bars.length === 0 || top === 0 ? (
        <p className="text-sm text-slate-500">{empty}</p>
      ) : (
        <svg
          viewBox={`0 0 ${WIDTH} ${height}`}
          className="w-full"
          role="img"
          aria-labelledby={id}
          preserveAspectRatio="xMinYMin meet"
        >
          {bars.map((b, i) => {
            const w = top > 0 ? Math.max(b.value > 0 ? 2 : 0, (b.value / top) * track) : 0;
            const y = i * ROW;
            return (
              <g key={b.label}>
                <title>{`${b.label}: ${b.display ?? b.value}`}</title>
                <text x={0} y={y + ROW / 2 + 4} fontSize="12" fill="#475569">
                  {b.label}
                </text>
                <rect x={LABEL_W} y={y + 4} width={track} height={ROW - 8} rx={3} fill="#f1f5f9" />
                <rect
                  x={LABEL_W}
                  y={y + 4}
                  width={w}
                  height={ROW - 8}
                  rx={3}
                  fill={b.color ?? '#059669'}
                />
                <text
                  x={LABEL_W + track + 6}
                  y={y + ROW / 2 + 4}
                  fontSize="12"
                  fontWeight="600"
                  fill="#0f172a"
                >
                  {b.display ?? b.value}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <DataTable caption={title} bars={bars} />
    </figure>
  );
}

/** Vertical columns for a short series (per-day earnings). */
export function ColumnChart({
  title,
  bars,
  empty = 'No data yet.',
}: {
  title: string;
  bars: Bar[];
  empty?: string;
}) {
  const id = useId();
  const top = Math.max(0, ...bars.map((b) => b.value));
  const H = 120;
  const LABEL_H = 18;
  const VALUE_H = 16;
  const col = 44;
  const width = Math.max(bars.length * col, 200);
  return (
    <figure className="space-y-2">
      <figcaption id={id} className="text-sm font-medium text-slate-700">
        {title}
      </figcaption>
      {bars.length === 0 || top === 0 ? (
        <p className="text-sm text-slate-500">{empty}</p>
      ) : (
        <svg
          viewBox={`0 0 ${width} ${H + LABEL_H + VALUE_H}`}
          className="h-44 w-full"
          role="img"
          aria-labelledby={id}
          preserveAspectRatio="xMinYMax meet"
        >
          {bars.map((b, i) => {
            const h = (b.value / top) * H;
            const x = i * col + 6;
            return (
              <g key={b.label}>
                <title>{`${b.label}: ${b.display ?? b.value}`}</title>
                <rect
                  x={x}
                  y={VALUE_H + H - h}
                  width={col - 12}
                  height={h}
                  rx={3}
                  fill={b.color ?? '#059669'}
                />
                <text
                  x={x + (col - 12) / 2}
                  y={VALUE_H + H - h - 4}
                  fontSize="10"
                  textAnchor="middle"
                  fill="#0f172a"
                >
                  {b.display ?? b.value}
                </text>
                <text
                  x={x + (col - 12) / 2}
                  y={VALUE_H + H + 13}
                  fontSize="10"
                  textAnchor="middle"
                  fill="#475569"
                >
                  {b.label}
                </text>
              </g>
            );
          })}
        </svg>
      )}
      <DataTable caption={title} bars={bars} />
    </figure>
  );
}
