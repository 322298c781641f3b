// The README's main job: a narrated tour of pvmutl on the built-in sim data
// centre, in a temporary store that is removed afterwards.
export async function runDemo(): Promise<number> {
  return (await import('./demo-script.js')).demo();
}
