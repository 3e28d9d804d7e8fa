/** `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/** @throws when a unix socket at this path could not be bound (the kernel limit is ~107 bytes). */
export function assertSocketPathFits(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `unix socket path ${socketPath} is ${bytes} bytes, more than the kernel's ${MAX_SOCKET_PATH_BYTES}; use a shorter data directory (LABNET_DATA_DIR)`,
    );
  }
}

/** A filesystem path as it may appear in a URL: plain when it is made of safe characters, else percent-encoded. */
export function toFileUrlSafePath(filePath: string): string {
  return /^[A-Za-z0-9/._~-]+$/.test(filePath) ? filePath : encodeURIComponent(filePath);
}
