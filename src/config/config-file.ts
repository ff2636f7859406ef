// Where the configuration is read from when no --config says: apart from the reader (load.ts),
// so that a command that only asks whether there is one (stats) need not load zod and yaml.
export const DEFAULT_CONFIG_FILE = 'lanekeeper.yaml';
