// dscli dialect. The server registry and the BMC operations arrive with the
// dscli work item; until then every command says so with the "not supported" code.
export async function runDscli(args: string[]): Promise<number> {
  if (args.length === 0 || ['help', '-h', '--help'].includes(args[0]!)) {
    process.stdout.write('Usage: dscli <command> [arguments]\n(dscli commands are not implemented in this version of kanri)\n');
    return args.length === 0 ? 1 : 0;
  }
  process.stderr.write(`dscli: ${args[0]} is not implemented yet in this version of kanri\n`);
  return 6;
}
