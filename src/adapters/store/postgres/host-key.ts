// The advisory lock that makes one runtime per host id on a shared store: its key for host $1 in
// this schema (stores in different schemas of one database never share a host's lock).
export const KEY = `hashtext('lanekeeper host ' || coalesce(current_schema(), '') || ' ' || $1)`;
