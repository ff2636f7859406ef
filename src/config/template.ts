// Fills {placeholders} in backend commands, env values, prompts and working directories.
// Each argv entry stays one argument whatever the values hold: nothing goes through a shell.

/** Every placeholder a command, env value, prompt or working directory may hold. */
export const PLACEHOLDERS = [
  'prompt',
  'lane',
  'session_id',
  'model',
  'backend',
  'arm',
  'node',
  'state',
  'task_id',
  'task_file',
] as const;

export type TemplateVars = Partial<Record<(typeof PLACEHOLDERS)[number], string>>;

export function expandTemplate(text: string, vars: TemplateVars): string {
  return text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => vars[name as keyof TemplateVars] ?? whole);
}
