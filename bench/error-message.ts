/**
 * The message of anything thrown or rejected.
 * @param error - the caught value
 * @returns its message, or a JSON rendering when it is not an Error
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? 'undefined';
  } catch {
    return 'unprintable error';
  }
}
