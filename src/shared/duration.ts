/**
 * Format seconds as h:mm:ss ("0:05:07", "26:00:00"), the way Slurm users read
 * elapsed time; an unknown duration gives an empty string.
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) {
    return '';
  }
  const total = Math.floor(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  return `${hours}:${twoDigits(minutes)}:${twoDigits(secs)}`;
}

function twoDigits(value: number): string {
  return value.toString().padStart(2, '0');
}
