// Claim keys: printable, at most 200 characters. Known namespaces have a shape of their own:
//   lane:<lane>                 a lane slot (the runtime takes these)
//   task:<slug>                 a task
//   github:<owner>/<repo>[#<n>] an issue or pull request
// Anything else is free text (e.g. "artifact:blog:my-post").

export const MAX_KEY_LENGTH = 200;

const SHAPES: Record<string, { re: RegExp; expected: string }> = {
  lane: { re: /^lane:[a-z0-9][a-z0-9_-]*$/, expected: 'lane:NAME (lowercase letters, digits, "-" or "_")' },
  task: { re: /^task:[A-Za-z0-9][A-Za-z0-9._/-]*$/, expected: 'task:SLUG (letters, digits, ".", "_", "/" or "-")' },
  github: { re: /^github:[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+(#\d+)?$/, expected: 'github:OWNER/REPO#NUMBER' },
};

/** null when the key is fine, else the reason it is not. */
export function claimKeyProblem(key: string): string | null {
  if (key.length === 0) return 'a claim key cannot be empty';
  if (key.length > MAX_KEY_LENGTH)
    return `a claim key has at most ${MAX_KEY_LENGTH} characters, this one has ${key.length}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) return 'a claim key must be printable (it holds a control character)';
  if (key.trim() !== key) return 'a claim key cannot start or end with whitespace';
  const ns = key.includes(':') ? key.slice(0, key.indexOf(':')) : '';
  const shape = SHAPES[ns];
  if (shape && !shape.re.test(key)) return `expected ${shape.expected}`;
  return null;
}
