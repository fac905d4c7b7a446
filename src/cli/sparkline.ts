const SPARKS = '▁▂▃▄▅▆▇█';

export interface SparklineOptions {
  /** `from-zero` (the default): the lowest block is 0, for counts; `min-to-max`: the series' own range, for a loss. */
  scale?: 'from-zero' | 'min-to-max';
  /** At most this many blocks: longer series are averaged into buckets. One block per value when absent. */
  width?: number;
}

/** One block per value (or bucket), scaled to the series' largest; a non-finite value (or an empty bucket) is a space. */
export function sparkline(values: readonly number[], options: SparklineOptions = {}): string {
  const points = options.width === undefined ? values : bucketMeans(values, options.width);
  const finite = points.filter(Number.isFinite);
  const low = options.scale === 'min-to-max' ? Math.min(...finite) : 0;
  const high = Math.max(...finite, low);
  return points
    .map((value) => (Number.isFinite(value) ? SPARKS[high === low ? 0 : Math.min(SPARKS.length - 1, Math.round(((value - low) / (high - low)) * (SPARKS.length - 1)))] : ' '))
    .join('');
}

function bucketMeans(values: readonly number[], width: number): number[] {
  const buckets = Math.min(width, values.length);
  return Array.from({ length: buckets }, (_, b) => {
    const slice = values.slice(Math.floor((b * values.length) / buckets), Math.floor(((b + 1) * values.length) / buckets)).filter(Number.isFinite);
    return slice.length === 0 ? NaN : slice.reduce((sum, v) => sum + v, 0) / slice.length;
  });
}
