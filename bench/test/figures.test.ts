import { describe, expect, it } from '@jest/globals';

import { formatValue, median, relativeTo, table } from '../src/figures.js';

describe('the harness’s arithmetic', () => {
  it('sets every case beside its baseline: ratio, unit, direction and target carried into each figure', () => {
    const figures = relativeTo(
      'core',
      { name: 'bare', value: 100 },
      [
        { name: 'gate', value: 150, target: '< 1.5' },
        { name: 'noop', value: 90 },
      ],
      'ns/call',
    );
    expect(figures).toEqual([
      { name: 'core: bare', value: 100, unit: 'ns/call', baseline: 'core: bare', ratio: 1, better: 'lower' },
      {
        name: 'core: gate',
        value: 150,
        unit: 'ns/call',
        baseline: 'core: bare',
        ratio: 1.5,
        better: 'lower',
        target: '< 1.5',
      },
      { name: 'core: noop', value: 90, unit: 'ns/call', baseline: 'core: bare', ratio: 0.9, better: 'lower' },
    ]);
    expect(relativeTo('rate', { name: 'a', value: 10 }, [{ name: 'b', value: 5 }], 'req/s', 'higher')[1]).toMatchObject(
      { ratio: 0.5, better: 'higher' },
    );
  });

  it('takes the median of odd and even counts without reordering its input', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('prints three significant digits below 100 and whole numbers from 100', () => {
    expect(formatValue(1.23456)).toBe('1.23');
    expect(formatValue(99.94)).toBe('99.9');
    expect(formatValue(1234.5)).toBe('1235');
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
  });

  it('renders a Markdown table that marks the baseline and prints ratios with two decimals', () => {
    const rendered = table(
      relativeTo('core', { name: 'bare', value: 100 }, [{ name: 'gate', value: 123.4 }], 'ns/call'),
    );
    expect(rendered.split('\n')).toEqual([
      '| benchmark | value | ratio to baseline | better | target |',
      '| --- | ---: | ---: | --- | --- |',
      '| core: bare | 100 ns/call | baseline | lower |  |',
      '| core: gate | 123 ns/call | 1.23x | lower |  |',
    ]);
  });
});
