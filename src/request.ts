import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The URL namespace of the jupyterlab-hpc server extension.
 */
const API_NAMESPACE = 'hpc';

/**
 * A failed call to the server extension.
 *
 * `status` is the HTTP status (503: Slurm unreachable, 504: Slurm timed out),
 * or 0 when the Jupyter server itself could not be reached.
 */
export class HpcRequestError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'HpcRequestError';
  }
}

/**
 * Call the server extension and return its JSON answer.
 *
 * This is the only function that knows how to reach the server: every failure
 * becomes an `HpcRequestError` carrying the server's own message, so callers
 * deal with one error type.
 *
 * @param endPoint Path below `{base_url}hpc/`, query string included.
 * @param init Fetch options (method, body...).
 * @param serverSettings The connection to use; the page's own by default.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(serverSettings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, serverSettings);
  } catch (error) {
    throw new HpcRequestError(0, (error as Error).message);
  }

  const text = await response.text();
  const body = parseJSON(text);

  if (!response.ok) {
    throw new HpcRequestError(
      response.status,
      errorMessage(body) ?? (response.statusText || `HTTP ${response.status}`)
    );
  }
  if (text && body === undefined) {
    throw new HpcRequestError(
      response.status,
      `The server sent an answer that is not JSON: ${text.slice(0, 200)}`
    );
  }
  return body as T;
}

function parseJSON(text: string): unknown {
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The `message` of jupyter_server's error shape `{"message": ..., "reason": ...}`.
 */
function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const { message } = body as { message: unknown };
    if (typeof message === 'string' && message) {
      return message;
    }
  }
  return undefined;
}
