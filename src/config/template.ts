// Fills {placeholders} in backend commands, env values, prompts and working directories.
// Each argv entry stays one argument whatever the values hold: nothing goes through a shell.

export type TemplateVars = Partial<Record<'prompt' | 'lane' | 'session_id' | 'model' | 'backend' | 'arm' | 'node' | 'state' | 'task_id' | 'task_file', string>>;

export function expandTemplate(text: string, vars: TemplateVars): string {
  return text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => vars[name as keyof TemplateVars] ?? whole);
}
