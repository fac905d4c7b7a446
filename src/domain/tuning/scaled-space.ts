import { resolveScaling, type NumericRange } from './ranges.ts';

/**
 * The space a numeric range is searched in, where its scaling makes draws uniform: the value
 * itself (Linear), ln x (Logarithmic) or -ln(1 - x) (ReverseLogarithmic, which spreads draws
 * evenly over 0.9, 0.99, 0.999 ...). Every sampler draws here and maps back.
 */
export interface ScaledInterval {
  low: number;
  high: number;
}

function forward(range: NumericRange, value: number): number {
  switch (resolveScaling(range)) {
    case 'Linear':
      return value;
    case 'Logarithmic':
      return Math.log(value);
    case 'ReverseLogarithmic':
      return -Math.log(1 - value);
  }
}

function backward(range: NumericRange, scaled: number): number {
  switch (resolveScaling(range)) {
    case 'Linear':
      return scaled;
    case 'Logarithmic':
      return Math.exp(scaled);
    case 'ReverseLogarithmic':
      return 1 - Math.exp(-scaled);
  }
}

/**
 * The scaled interval draws come from. An integer range is widened by half a step at each end
 * before scaling, so that its end values own a whole cell, as every other value does, and come
 * up as often.
 */
export function scaledInterval(range: NumericRange): ScaledInterval {
  return range.kind === 'Integer' ? integerCell(range, range.min, range.max) : { low: forward(range, range.min), high: forward(range, range.max) };
}

/** The scaled cell of the integers from..to: the draws that round to one of them. */
export function integerCell(range: NumericRange, from: number, to: number = from): ScaledInterval {
  return { low: forward(range, from - 0.5), high: forward(range, to + 0.5) };
}

export function toScaled(range: NumericRange, value: number): number {
  return forward(range, value);
}

/** The range's value at a scaled point: kept within the bounds that rounding may cross, and rounded for integers. */
export function fromScaled(range: NumericRange, scaled: number): number {
  const value = backward(range, scaled);
  const rounded = range.kind === 'Integer' ? Math.round(value) : value;
  // `+ 0` turns the -0 that Math.round(-0.4) gives into 0.
  return Math.min(range.max, Math.max(range.min, rounded)) + 0;
}
