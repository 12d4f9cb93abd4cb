import { formatDuration } from '../duration';

describe('formatDuration', () => {
  it.each([
    [0, '0:00:00'],
    [65, '0:01:05'],
    [3725, '1:02:05'],
    [93600, '26:00:00']
  ])('shows %i seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('shows an unknown duration as nothing', () => {
    expect(formatDuration(null)).toBe('');
  });
});
