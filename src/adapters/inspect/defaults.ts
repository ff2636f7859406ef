// Where `run --inspect` listens unless told otherwise: loopback only, so nothing off this machine
// can watch the fleet until the operator says so with --inspect-host. Kept apart from feed.ts so
// the command line can name them without loading the WebSocket server.
export const DEFAULT_INSPECT_PORT = 4181;
export const DEFAULT_INSPECT_HOST = '127.0.0.1';
