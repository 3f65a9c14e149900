#!/usr/bin/env node
// The `agentos` command line. `agentos demo` (the default, what `npm start` runs)
// shows a node with a supervision tree; `serve` runs a node that `ps`, `tree`,
// `send`, `ask`, `approvals`, `approve`, `reject` (and `audit verify|head`)
// reach through its local control endpoint; the other commands work offline on
// files and data dirs. Exit 0 ok, 1 failure, 2 usage error; errors as `CODE: message`.

import { registerClusterCommands } from './cluster.js';
import { registerExperimentCommands } from './experiment.js';
import { Command } from 'commander';
import { registerApprovalCommands } from './approvals.js';
import { registerAuditCommands } from './audit.js';
import { registerContractCommands } from './contract.js';
import { registerDoctorCommand } from './doctor.js';
import { registerMcpCommands } from './mcp.js';
import { registerPsCommands } from './ps.js';
import { registerProjectCommands } from './init.js';
import { ExitCodes, describeError, exitCodeFor, type CliIo, type ExitCode } from './exit.js';
import { colourWanted, paint } from './style.js';
import { registerReplayCommand } from './replay.js';
import { registerSendCommands } from './send.js';
import { registerServeCommand } from './serve.js';
import { registerTraceCommand } from './trace.js';
import { registerValidateCommand } from './validate.js';

function buildProgram(io: CliIo): Command {
  const program = new Command();
  // Settings made before .command() are inherited by every subcommand.
  program.name('agentos').description('An operating system for LLM agents').version('0.1.0').exitOverride();

  program
    .command('demo', { isDefault: true })
    .description('run the showcase on embedded defaults (no network) and exit')
    .option('--data-dir <dir>', 'where the node keeps its data', '.agentos')
    .option('--interactive', "wait for `agentos approve` at the workflow's approval gate instead of the demo reviewer")
    .option('--serve', 'keep the node running with its control endpoint until Ctrl-C')
    .addHelpText('after', '\nExamples:\n  $ agentos demo\n  $ agentos demo --data-dir /tmp/agentos-demo\n  $ agentos demo --interactive --serve')
    .action(async (opts: { dataDir: string; interactive?: boolean; serve?: boolean }) => {
      // Loaded on use: the demo pulls in the whole runtime, which `agentos ps` and the offline commands do not need.
      const { runDemo } = await import('./demo.js');
      await runDemo(io.out, opts.dataDir, { ...(opts.interactive ? { interactive: true } : {}), ...(opts.serve ? { serve: true } : {}) });
    });
  registerContractCommands(program, io);
  registerValidateCommand(program, io);
  registerDoctorCommand(program, io);
  registerAuditCommands(program, io);
  registerReplayCommand(program, io);
  registerMcpCommands(program, io);
  registerServeCommand(program, io);
  registerPsCommands(program, io);
  registerSendCommands(program, io);
  registerApprovalCommands(program, io);
  registerExperimentCommands(program, io);
  registerClusterCommands(program, io);
  registerTraceCommand(program, io);
  registerProjectCommands(program, io);
  return program;
}

/**
 * With a default command, commander hands an unknown command name to `demo` as an
 * argument ("too many arguments for 'demo'"); name the real mistake instead.
 */
function rejectUnknownCommand(program: Command, argv: readonly string[]): void {
  const first = argv[2];
  if (first === undefined || first.startsWith('-') || first === 'help') return;
  if (program.commands.some((c) => c.name() === first || c.aliases().includes(first))) return;
  program.error(`error: unknown command '${first}' (see agentos --help)`, { code: 'commander.unknownCommand' });
}

async function runCli(argv: readonly string[], io: Omit<CliIo, 'fail'>): Promise<ExitCode> {
  let failed = false;
  const session: CliIo = { ...io, fail: () => (failed = true) };
  try {
    const program = buildProgram(session);
    rejectUnknownCommand(program, argv);
    await program.parseAsync([...argv]);
    return failed ? ExitCodes.failure : ExitCodes.ok;
  } catch (err) {
    const line = describeError(err, io.paint?.err);
    if (line !== undefined) io.err(line);
    return exitCodeFor(err);
  }
}

// A reader that goes away early (`agentos approvals --json | head`) ends our output, not the run with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

const code = await runCli(process.argv, {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  paint: { out: paint(colourWanted(process.stdout)), err: paint(colourWanted(process.stderr)) },
});
// Not process.exit(): it could cut off output still queued for a pipe.
process.exitCode = code;
