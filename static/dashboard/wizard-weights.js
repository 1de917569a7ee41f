// The traffic-shifting wizard's arithmetic: weights that always sum to 100. Pure (no DOM), tested by `npm test`.

/** Integer shares of `total` in proportion to `parts` (evenly when they are all 0), summing to `total` exactly:
 * each share rounded down, then the points left go to the largest remainders (the first on ties). */
export function apportion(parts, total) {
  if (parts.length === 0) return [];
  const sum = parts.reduce((a, b) => a + b, 0);
  const exact = parts.map((p) => (sum > 0 ? (p * total) / sum : total / parts.length));
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    shares[i] += 1;
    left -= 1;
  }
  return shares;
}

/** `weights` after the one at `index` is set to `value` (clamped to 0..100, rounded): the others share what is
 * left in proportion to what they had, so the sum stays 100. */
export function rebalance(weights, index, value) {
  if (weights.length === 1) return [100];
  const wanted = Math.min(100, Math.max(0, Math.round(Number(value) || 0)));
  const others = weights.filter((_, i) => i !== index);
  const shares = apportion(others, 100 - wanted);
  const out = [];
  let k = 0;
  for (let i = 0; i < weights.length; i += 1) out.push(i === index ? wanted : shares[k++]);
  return out;
}
