/**
 * Engine API versions the facade speaks. The docker CLI pings first and then uses the server's
 * `Api-Version` (capped at its own maximum), so the version announced decides the request shapes
 * clients send: 1.47 (Docker 27) has every field the translation reads (several networks at
 * create since 1.44, the multiplexed-stream media type since 1.42).
 */
export const API_VERSION = "1.47";
export const MIN_API_VERSION = "1.24";

/** Compares `major.minor` versions: negative, zero or positive. */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split(".").map(Number);
  const [bMajor = 0, bMinor = 0] = b.split(".").map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/**
 * Why a client's version (the path's `v1.NN`, without the `v`) is refused, in dockerd's words, or
 * undefined when it is served.
 */
export function apiVersionProblem(version: string): string | undefined {
  if (compareApiVersions(version, MIN_API_VERSION) < 0) {
    return `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`;
  }
  if (compareApiVersions(version, API_VERSION) > 0) {
    return `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`;
  }
  return undefined;
}
