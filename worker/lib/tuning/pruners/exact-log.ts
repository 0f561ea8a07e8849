/**
 * A correctly rounded natural logarithm. Hyperband's bracket count is floor(ln(max/min)/ln(rf)) + 1
 * evaluated in doubles, and at exact powers (243 = 3^5, 1000 = 10^3) the last bit of each logarithm
 * decides the floor. JavaScript engines' Math.log can be one ulp off (ln 3, ln 48, ...), which changes
 * the count; the C library under Optuna agreed with correct rounding on every integer we compared
 * (it differs only on rare near-halfway non-integers, which ratios of small integers never are).
 * This evaluates ln in double-double (~106 bits) and rounds once.
 */

type DD = readonly [hi: number, lo: number];

const SPLITTER = 134217729; // 2^27 + 1, Veltkamp splitting for exact products without FMA
const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

function split(a: number): DD {
  const c = SPLITTER * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s2, e2] = quickTwoSum(s, e + t);
  return quickTwoSum(s2, e2 + f);
}

function mul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

function div(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  let r = add(a, mul(b, [-q1, 0]));
  const q2 = r[0] / b[0];
  r = add(r, mul(b, [-q2, 0]));
  const q3 = r[0] / b[0];
  return add(quickTwoSum(q1, q2), [q3, 0]);
}

/** ln(x) rounded to the nearest double; NaN, ±0, negatives and +Infinity behave as Math.log. */
export function exactLog(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x);
  // x = m·2^e with m in [√½, √2): the atanh series below then converges in ~20 terms to 106 bits.
  let e = Math.round(Math.log2(x));
  let m = x;
  for (let k = e; k !== 0; ) {
    const step = Math.max(-1000, Math.min(1000, k));
    m *= 2 ** -step;
    k -= step;
  }
  if (m < Math.SQRT1_2) {
    m *= 2;
    e -= 1;
  } else if (m > Math.SQRT2) {
    m /= 2;
    e += 1;
  }
  // ln m = 2·atanh(s), s = (m−1)/(m+1); m−1 is exact for m in [½, 2].
  const s = div([m - 1, 0], twoSum(m, 1));
  const s2 = mul(s, s);
  let term: DD = s;
  let sum: DD = s;
  for (let n = 3; n < 80; n += 2) {
    term = mul(term, s2);
    const next = div(term, [n, 0]);
    if (Math.abs(next[0]) < Math.abs(sum[0]) * 2 ** -110) break;
    sum = add(sum, next);
  }
  const lnM = mul(sum, [2, 0]);
  const result = add(mul(LN2, [e, 0]), lnM);
  return result[0] + result[1];
}
