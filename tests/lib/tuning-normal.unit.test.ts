import { describe, expect, it } from "vitest";
import {
  erf,
  erfc,
  erfcx,
  logAddExp,
  logGaussMass,
  logNdtr,
  ndtr,
  ndtri,
  ndtriExp,
  normLogPdf,
  truncNormLogPdf,
  truncNormPpf,
} from "../../worker/lib/tuning/normal";

/**
 * Rows are [x, scipy value, exact value]. scipy values: scipy 1.10.1 `scipy.special.<name>(x)`
 * (erf, erfc, erfcx, ndtr, log_ndtr, ndtri, ndtri_exp). Exact values: mpmath 1.2.1 at 400 digits
 * (mp.erf, mp.erfc, exp(x²)·mp.erfc, mp.ncdf, log(mp.ncdf), and the root of log(mp.ncdf(t)) = y for the
 * inverses), rounded to double. scipy 1.10.1 is itself off by up to 5e-13 in the deep tails
 * (ndtr(−37), log_ndtr(37), ndtri_exp(−1e5)), so the tight check is against the exact column.
 */
const TABLES: Record<string, [number, number, number][]> = {
  erf: [
    [-3, -0.9999779095030014, -0.9999779095030014],
    [-1, -0.8427007929497148, -0.8427007929497149],
    [-0.3, -0.3286267594591274, -0.3286267594591274],
    [1e-08, 1.1283791670955125e-08, 1.1283791670955126e-08],
    [0.1, 0.1124629160182849, 0.1124629160182849],
    [0.5, 0.5204998778130465, 0.5204998778130465],
    [0.9, 0.7969082124228322, 0.7969082124228322],
    [0.999, 0.8422852702064969, 0.8422852702064969],
    [1.001, 0.8431154854780762, 0.8431154854780762],
    [1.7, 0.9837904585907745, 0.9837904585907745],
    [2.5, 0.999593047982555, 0.999593047982555],
    [4, 0.9999999845827421, 0.9999999845827421],
    [5.9, 0.9999999999999999, 0.9999999999999999],
  ],
  erfc: [
    [-3, 1.9999779095030015, 1.9999779095030015],
    [-0.3, 1.3286267594591274, 1.3286267594591274],
    [0, 1.0, 1.0],
    [0.5, 0.4795001221869535, 0.4795001221869535],
    [0.999, 0.1577147297935031, 0.15771472979350307],
    [1.001, 0.15688451452192373, 0.15688451452192373],
    [1.7, 0.01620954140922544, 0.01620954140922544],
    [3, 2.2090496998585445e-05, 2.209049699858544e-05],
    [5, 1.5374597944280347e-12, 1.537459794428035e-12],
    [10, 2.0884875837625446e-45, 2.088487583762545e-45],
    [26, 5.663192408856145e-296, 5.663192408856143e-296],
  ],
  erfcx: [
    [-2, 108.94090438997797, 108.94090438997797],
    [0, 1.0, 1.0],
    [0.5, 0.6156903441929258, 0.6156903441929259],
    [0.999, 0.4278569426214168, 0.4278569426214168],
    [1.001, 0.4273105184333951, 0.42731051843339507],
    [2, 0.2553956763105058, 0.25539567631050575],
    [5, 0.11070463773306861, 0.11070463773306863],
    [30, 0.018795888861416754, 0.01879588886141675],
    [1000.0, 0.0005641893014533876, 0.0005641893014533876],
    [100000000.0, 5.641895835477563e-09, 5.641895835477562e-09],
  ],
  ndtr: [
    [-37, 5.7255712225239266e-300, 5.725571222524577e-300],
    [-20, 2.7536241186061556e-89, 2.7536241186062337e-89],
    [-8, 6.22096057427174e-16, 6.220960574271784e-16],
    [-3, 0.0013498980316300933, 0.0013498980316300946],
    [-1.5, 0.06680720126885807, 0.06680720126885807],
    [0, 0.5, 0.5],
    [0.7, 0.758036347776927, 0.758036347776927],
    [2, 0.9772498680518208, 0.9772498680518208],
    [8, 0.9999999999999993, 0.9999999999999993],
  ],
  logNdtr: [
    [-10000.0, -50000010.12927892, -50000010.12927891],
    [-1000.0, -500007.8266948122, -500007.82669481216],
    [-200, -20006.21728089819, -20006.21728089819],
    [-38.5, -745.6952702904113, -745.695270290411],
    [-20, -203.9171553710973, -203.91715537109727],
    [-5.5, -17.779376352625263, -17.77937635262526],
    [-5, -15.064998393988727, -15.064998393988725],
    [-4.99, -15.013181717689323, -15.01318171768932],
    [-2, -3.7831843336820317, -3.783184333682032],
    [-0.1, -0.7761545927302731, -0.7761545927302733],
    [0, -0.6931471805599453, -0.6931471805599453],
    [1, -0.17275377902344985, -0.17275377902344988],
    [5, -2.8665161296376305e-07, -2.866516129637636e-07],
    [6.5, -4.016000583939729e-11, -4.016000583939759e-11],
    [20, -2.7536241186061556e-89, -2.7536241186062337e-89],
    [37, -5.725571222523926e-300, -5.725571222524577e-300],
  ],
  ndtri: [
    [1e-300, -37.0470962993612, -37.0470962993612],
    [1e-100, -21.273453560965322, -21.273453560965326],
    [1e-20, -9.262340089798409, -9.262340089798407],
    [1e-05, -4.264890793922825, -4.264890793922825],
    [0.025, -1.9599639845400545, -1.9599639845400543],
    [0.3, -0.5244005127080409, -0.5244005127080408],
    [0.5, 0.0, 0.0],
    [0.7, 0.5244005127080407, 0.5244005127080407],
    [0.975, 1.959963984540054, 1.9599639845400538],
    [0.999999, 4.753424308817087, 4.753424308817087],
  ],
  ndtriExp: [
    [-100000.0, -447.19789367876837, -447.1978936785251],
    [-2000, -63.165418608783604, -63.16541860878361],
    [-50, -9.674825283612355, -9.674825283612357],
    [-10, -3.913946240531893, -3.913946240531893],
    [-3, -1.6469217205277145, -1.6469217205277147],
    [-1, -0.33747496376420244, -0.33747496376420244],
    [-0.5, 0.27028802073873587, 0.27028802073873587],
    [-0.0101, 2.3245070796483924, 2.3245070796483924],
    [-0.0099, 2.331969178776533, 2.3319691787765326],
    [-1e-05, 4.264891910308922, 4.264891910308923],
    [-1e-12, 7.034483825301202, 7.034483825301201],
    [-1e-30, 11.464024688443613, 11.464024688443615],
  ],
};

const FNS: Record<string, (x: number) => number> = { erf, erfc, erfcx, ndtr, logNdtr, ndtri, ndtriExp };

function relErr(got: number, want: number): number {
  if (want === 0) return Math.abs(got);
  return Math.abs(got - want) / Math.abs(want);
}

describe("normal special functions against scipy.special and exact values", () => {
  for (const [name, rows] of Object.entries(TABLES)) {
    it(`${name} matches to ~1e-14 relative (exact) and 1e-12 (scipy)`, () => {
      for (const [x, scipyValue, exact] of rows) {
        const got = FNS[name](x);
        // Values that are mathematically ~0 (e.g. ndtri(0.5)) are compared absolutely.
        const tolExact = Math.abs(exact) < 1e-40 ? 1e-15 : 1e-14;
        expect(relErr(got, exact), `${name}(${x}) = ${got}, exact ${exact}`).toBeLessThan(tolExact);
        expect(relErr(got, scipyValue) < 1e-12 || Math.abs(got - scipyValue) < 1e-15, `${name}(${x}) vs scipy`).toBe(true);
      }
    });
  }

  it("handles infinities, NaN and out-of-domain arguments", () => {
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(ndtr(-Infinity)).toBe(0);
    expect(ndtr(Infinity)).toBe(1);
    expect(logNdtr(-Infinity)).toBe(-Infinity);
    expect(logNdtr(Infinity)).toBe(0);
    expect(Number.isNaN(logNdtr(NaN))).toBe(true);
    expect(ndtriExp(0)).toBe(Infinity);
    expect(ndtriExp(-Infinity)).toBe(-Infinity);
    expect(Number.isNaN(ndtriExp(0.1))).toBe(true);
    expect(ndtri(0)).toBe(-Infinity);
    expect(ndtri(1)).toBe(Infinity);
    expect(Number.isNaN(ndtri(1.5))).toBe(true);
  });

  it("log Φ stays finite and monotone far beyond where Φ underflows", () => {
    let prev = -Infinity;
    for (let z = -1e6; z < 40; z = z < -100 ? z / 2 : z + 0.37) {
      const v = logNdtr(z);
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
    // Leading asymptotic term −z²/2 − log(−z√(2π)) for z → −∞.
    const z = -1e5;
    expect(logNdtr(z)).toBeCloseTo(-0.5 * z * z - Math.log(-z * Math.sqrt(2 * Math.PI)), 6);
  });

  it("ndtriExp inverts logNdtr across the whole range", () => {
    for (const x of [-300, -37.5, -8, -5.01, -1, -1e-9, 0, 0.3, 2.2, 2.4, 5, 8.1]) {
      const y = logNdtr(x);
      expect(Math.abs(ndtriExp(y) - x)).toBeLessThan(1e-12 * Math.max(1, Math.abs(x)));
    }
  });

  it("logAddExp and normLogPdf", () => {
    expect(logAddExp(Math.log(2), Math.log(3))).toBeCloseTo(Math.log(5), 15);
    expect(logAddExp(-Infinity, -3)).toBe(-3);
    expect(logAddExp(-1000, -1000)).toBeCloseTo(-1000 + Math.log(2), 12);
    expect(normLogPdf(0)).toBeCloseTo(-0.9189385332046727, 15);
  });
});

/**
 * Rows are [x, exact value]: mpmath 1.3.0 at 80 digits (mp.exp(x²)·mp.erfc(x), mp.erfc, mp.ncdf,
 * log(mp.ncdf(z)), or log1p(−mp.ncdf(−z)) where mp.ncdf(z) rounds to 1), rounded to double. The points
 * cover every piece of the polynomial erfcx and both sides of each switch: the piece ends at multiples of
 * 1/2 up to 4 (next doubles below and above included), the far piece and its 1e8 cut-off, and the
 * arguments z = ±√2·x that send log Φ and Φ across them.
 */
const DENSE: Record<string, [number, number][]> = {
  erfcx: [
    [0.0, 1.0],
    [1e-300, 1.0],
    [1e-8, 0.9999999887162084],
    [0.1, 0.8964569799691267],
    [0.25, 0.7703465477309968],
    [0.49999999999999994, 0.6156903441929259],
    [0.5, 0.6156903441929259],
    [0.75, 0.5069376502931449],
    [0.9999999999999999, 0.42758357615580705],
    [1.0, 0.427583576155807],
    [1.3, 0.3576426690860903],
    [1.5, 0.3215854164543175],
    [2.0, 0.25539567631050575],
    [2.25, 0.23108725873039188],
    [2.5, 0.2108063640611436],
    [3.0, 0.17900115118138996],
    [3.5, 0.1552936556088943],
    [3.75, 0.14558972127503855],
    [3.9999999999999996, 0.1369994576250614],
    [4.0, 0.13699945762506138],
    [4.000000000000001, 0.13699945762506135],
    [4.5, 0.12248480427384142],
    [5.0, 0.11070463773306863],
    [6.0, 0.09277656780053835],
    [7.5, 0.07457369306287669],
    [10.0, 0.05614099274382259],
    [14.0, 0.04019722865021846],
    [27.0, 0.02088160799042094],
    [50.0, 0.011281536265323773],
    [123.456, 0.004569814969647458],
    [1000.0, 0.0005641893014533876],
    [100000.0, 5.6418958351954685e-6],
    [99999999.99999999, 5.641895835477563e-9],
    [100000000.00000001, 5.6418958354775614e-9],
    [1e15, 5.641895835477563e-16],
    [1e200, 5.641895835477563e-201],
    [1e300, 5.641895835477562e-301],
    [-1e-8, 1.0000000112837917],
    [-0.3, 1.4537492328427655],
    [-1.0, 5.008980080762283],
    [-2.5, 1035.814842972623],
    [-5.0, 144009798674.66104],
    [-10.0, 5.376234283632271e43],
    [-26.0, 7.657724931490568e293],
  ],
  erfc: [
    [0.2, 0.7772974107895215],
    [0.7, 0.32219880616258156],
    [3.3, 3.0577097964381654e-6],
    [6.0, 2.1519736712498913e-17],
    [8.0, 1.1224297172982926e-29],
    [15.0, 7.212994172451207e-100],
    [-0.7, 1.6778011938374184],
  ],
  ndtr: [
    [-30.0, 4.906713927148187e-198],
    [-12.0, 1.776482112077679e-33],
    [-5.656854249492381, 7.708628950139992e-9],
    [-2.8284271247461903, 0.0023388674905236314],
    [-1.0, 0.15865525393145705],
    [0.3, 0.6179114221889527],
    [1.4142135623730951, 0.9213503964748575],
    [3.0, 0.9986501019683699],
    [7.0, 0.9999999999987201],
  ],
  logNdtr: [
    [-1e6, -500000000014.73444],
    [-30.0, -454.3212439563432],
    [-7.0710678118654755, -27.894036726097383],
    [-5.656854249492381, -18.680925492662954],
    [-5.65685424949238, -18.68092549266295],
    [-5.000000000000001, -15.06499839398873],
    [-5.0, -15.064998393988725],
    [-4.999999999999999, -15.064998393988722],
    [-4.0, -10.360101486527292],
    [-2.8284271247461903, -6.058088445176583],
    [-1.4142135623730951, -2.542752690493194],
    [-0.7071067811865476, -1.4281583103970297],
    [-1e-10, -0.6931471806397338],
    [1e-10, -0.6931471804801569],
    [0.7071067811865476, -0.2741080327843857],
    [1.4142135623730951, -0.0819148628818748],
    [2.0, -0.02301290932896349],
    [2.0000000000000004, -0.023012909328963466],
    [2.8284271247461903, -0.002341606913357651],
    [4.0, -3.167174337748927e-5],
    [5.656854249492381, -7.708628979851472e-9],
    [8.0, -6.220960574271786e-16],
    [10.0, -7.619853024160525e-24],
    [30.0, -4.906713927148187e-198],
  ],
};

describe("the polynomial erfcx and what is built on it, across every piece and switch", () => {
  const fns: Record<string, (x: number) => number> = { erfcx, erfc, ndtr, logNdtr };
  // erfcx itself is within 2 ulp; Φ and log Φ add the roundings of exp and log (and of z/√2).
  const ulps: Record<string, number> = { erfcx: 2, erfc: 4, ndtr: 4, logNdtr: 4 };
  for (const [name, rows] of Object.entries(DENSE)) {
    it(`${name} is within ${ulps[name]} ulp of the exact value`, () => {
      for (const [x, exact] of rows) {
        const got = fns[name](x);
        expect(relErr(got, exact), `${name}(${x}) = ${got}, exact ${exact}`).toBeLessThanOrEqual(ulps[name] * Number.EPSILON);
      }
    });
  }

  it("is continuous and decreasing across the piece ends", () => {
    for (let end = 0.5; end <= 4; end += 0.5) {
      const below = erfcx(end - 2 ** -50);
      const at = erfcx(end);
      expect(below).toBeGreaterThanOrEqual(at);
      expect(relErr(below, at)).toBeLessThan(4 * Number.EPSILON);
    }
    let prev = Infinity;
    for (let x = 0; x < 60; x += 0.0137) {
      const v = erfcx(x);
      expect(v).toBeLessThanOrEqual(prev);
      prev = v;
    }
  });

  it("passes NaN through and meets the infinities", () => {
    for (const f of Object.values(fns)) expect(Number.isNaN(f(NaN))).toBe(true);
    expect(erfcx(Infinity)).toBe(0);
    expect(erfcx(-Infinity)).toBe(Infinity);
    expect(Number.isNaN(logGaussMass(NaN, 1))).toBe(true);
    expect(logGaussMass(-Infinity, Infinity) === 0).toBe(true); // −0 or 0
    expect(logGaussMass(3, Infinity)).toBe(logNdtr(-3));
    expect(logGaussMass(-Infinity, -3)).toBe(logNdtr(-3));
  });
});

/** [q, a, b, exact]: exact = 200-step bisection of mp.ncdf(t) = Φ(a) + q(Φ(b) − Φ(a)) at 400 digits (mpmath 1.2.1). */
const PPF: [number, number, number, number][] = [
  [0.3, -1.0, 2.0, -0.24240381788922682],
  [0.5, -0.5, 0.5, -3.111507638930571e-61],
  [0.01, 10.0, 12.0, 10.000995222074325],
  [0.99, -40.0, -38.0, -38.00026429882417],
  [0.5, -3.0, 30.0, 0.0016918470940848107],
  [0.9, 0.0, 0.001, 0.0008999999714999962],
  [1e-09, -2.0, 2.0, -1.9999999823211219],
];
/** [a, b, exact]: log(mp.ncdf(b) − mp.ncdf(a)) at 400 digits (mpmath 1.2.1). */
const MASS: [number, number, number][] = [
  [-1.0, 2.0, -0.2001662943244626],
  [3.0, 3.5, -6.796868006683432],
  [-50.0, -49.0, -1205.3111748916654],
  [8.0, 9.0, -35.01361859343715],
  [-0.1, 0.1, -2.5300420015472382],
  [-30.0, 30.0, -9.813427854296374e-198],
  [5.0, 40.0, -15.064998393988725],
  // mpmath 1.3.0 at 80 digits (log(mp.ncdf(−a) − mp.ncdf(−b)) right of zero).
  [-40.0, -39.5, -784.720879106624],
  [-6.0, -5.9, -20.908487332828013],
  [-3.2, -1.1, -2.0026366385958276],
  [-0.2, 0.3, -1.62368323886832],
  [0.3, 0.31, -5.570624998249641],
  [2.5, 2.6, -6.470483216677571],
  [12.0, 12.5, -75.41277631069744],
  [37.0, 38.0, -689.0305855768906],
];
/**
 * [x, a, b, loc, scale, exact]: the truncated normal log density (as scipy.stats.truncnorm.logpdf with
 * a, b in standard units), exact from mpmath 1.2.1 at 400 digits.
 */
const LOGPDF: [number, number, number, number, number, number][] = [
  [0.5, -1.0, 1.0, 0.0, 1.0, -0.6622233869025467],
  [2.0, -3.0, 0.5, 1.0, 2.0, -1.3661851542025856],
  [11.0, 10.0, 12.0, 0.0, 1.0, -8.187653382459063],
  [-39.0, -40.0, -38.0, 0.0, 1.0, -34.861722514384546],
];

describe("truncated normal pieces", () => {
  it("truncNormPpf matches the exact quantile, also deep in either tail", () => {
    for (const [q, a, b, exact] of PPF) {
      expect(Math.abs(truncNormPpf(q, a, b) - exact), `ppf(${q}, ${a}, ${b})`).toBeLessThan(1e-13 * Math.max(1, Math.abs(exact)));
    }
  });

  it("truncNormPpf is monotone in q, stays inside [a, b] and hits the ends", () => {
    for (const [a, b] of [[-1, 1], [12, 14], [-60, -59], [-0.001, 0.002]] as const) {
      let prev = -Infinity;
      for (let i = 0; i <= 100; i++) {
        const c = truncNormPpf(i / 100, a, b);
        expect(c).toBeGreaterThanOrEqual(a);
        expect(c).toBeLessThanOrEqual(b);
        expect(c).toBeGreaterThanOrEqual(prev);
        prev = c;
      }
      expect(truncNormPpf(0, a, b)).toBe(a);
      expect(truncNormPpf(1, a, b)).toBe(b);
    }
    expect(Number.isNaN(truncNormPpf(0.5, 1, 1))).toBe(true);
  });

  it("logGaussMass matches exact values in the centre and both tails", () => {
    for (const [a, b, exact] of MASS) {
      expect(relErr(logGaussMass(a, b), exact), `mass(${a}, ${b})`).toBeLessThan(1e-13);
    }
    // Symmetry.
    expect(logGaussMass(-9, -8)).toBe(logGaussMass(8, 9));
  });

  it("truncNormLogPdf matches exact values and is −∞ outside the support", () => {
    for (const [x, a, b, loc, scale, exact] of LOGPDF) {
      expect(relErr(truncNormLogPdf(x, a, b, loc, scale), exact)).toBeLessThan(1e-13);
    }
    expect(truncNormLogPdf(3, -1, 1, 0, 1)).toBe(-Infinity);
    expect(truncNormLogPdf(-1.5, -1, 1, 0, 1)).toBe(-Infinity);
    // The density integrates to one over the support (midpoint rule on a fine grid).
    const [a, b, loc, scale] = [-0.7, 2.3, 1.5, 0.4];
    const n = 20000;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const x = loc + scale * (a + ((b - a) * (i + 0.5)) / n);
      s += Math.exp(truncNormLogPdf(x, a, b, loc, scale));
    }
    expect(s * ((b - a) * scale) / n).toBeCloseTo(1, 6);
  });
});
