/**
 * Float64 reference for the option tests (never used by the service): W. J. Cody's erfc, "Rational Chebyshev
 * approximations for the error function", Math. Comp. 23 (1969) 631–638, in the form of his SPECFUN routine CALERF
 * (netlib.org/specfun/erf, 1990), accurate to double precision; N(x) = erfc(−x/√2)/2; Black-Scholes in doubles.
 * It is an algorithm independent of the contract's Hart/West approximation, so agreement tests both.
 */

/** Cody's coefficients as published (18 digits), parsed to the nearest doubles. */
function doubles(list: string): number[] {
  return list.split(" ").map(Number);
}

const A = doubles(
  "3.1611237438705656 113.864154151050156 377.485237685302021 3209.37758913846947 0.185777706184603153",
);
const B = doubles("23.6012909523441209 244.024637934444173 1282.61652607737228 2844.23683343917062");
const C = doubles(
  "0.564188496988670089 8.88314979438837594 66.1191906371416295 298.635138197400131 881.95222124176909 1712.04761263407058 2051.07837782607147 1230.33935479799725 2.15311535474403846e-8",
);
const D = doubles(
  "15.7449261107098347 117.693950891312499 537.181101862009858 1621.38957456669019 3290.79923573345963 4362.61909014324716 3439.36767414372164 1230.33935480374942",
);
const P = doubles(
  "0.305326634961232344 0.360344899949804439 0.125781726111229246 0.0160837851487422766 6.58749161529837803e-4 0.0163153871373020978",
);
const Q = doubles(
  "2.56852019228982242 1.87295284992346047 0.527905102951428412 0.0605183413124413191 0.00233520497626869185",
);
const SQRPI = Number("0.56418958354775628695");

/** erfc(x) in double precision (Cody's CALERF with JINT = 1). */
export function erfc(x: number): number {
  const y = Math.abs(x);
  let result: number;
  if (y <= 0.46875) {
    const ysq = y > 1.11e-16 ? y * y : 0;
    let xnum = A[4] * ysq;
    let xden = ysq;
    for (let i = 0; i < 3; i++) {
      xnum = (xnum + A[i]) * ysq;
      xden = (xden + B[i]) * ysq;
    }
    return 1 - (x * (xnum + A[3])) / (xden + B[3]);
  } else if (y <= 4) {
    let xnum = C[8] * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]) * y;
      xden = (xden + D[i]) * y;
    }
    result = (xnum + C[7]) / (xden + D[7]);
  } else if (y >= 26.543) {
    result = 0;
  } else {
    const ysq = 1 / (y * y);
    let xnum = P[5] * ysq;
    let xden = ysq;
    for (let i = 0; i < 4; i++) {
      xnum = (xnum + P[i]) * ysq;
      xden = (xden + Q[i]) * ysq;
    }
    result = (ysq * (xnum + P[4])) / (xden + Q[4]);
    result = (SQRPI - result) / y;
  }
  if (result !== 0) {
    // exp(−y²) split as Cody does, so the large argument loses no digits.
    const ysq = Math.trunc(y * 16) / 16;
    const del = (y - ysq) * (y + ysq);
    result = Math.exp(-ysq * ysq) * Math.exp(-del) * result;
  }
  return x < 0 ? 2 - result : result;
}

/** Standard normal CDF in double precision. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

const YEAR = 365 * 86_400;

/** Black-Scholes price in doubles (call: S·N(d1) − K·e^(−rT)·N(d2); put: K·e^(−rT)·N(−d2) − S·N(−d1)). */
export function blackScholes(isCall: boolean, s: number, k: number, seconds: number, sigma: number, r: number): number {
  const t = seconds / YEAR;
  const df = Math.exp(-r * t);
  if (seconds === 0 || sigma === 0) return Math.max(isCall ? s - k * df : k * df - s, 0);
  const sd = sigma * Math.sqrt(t);
  const d1 = (Math.log(s / k) + r * t + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  return isCall ? s * normalCdf(d1) - k * df * normalCdf(d2) : k * df * normalCdf(-d2) - s * normalCdf(-d1);
}
