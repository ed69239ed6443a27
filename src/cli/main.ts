import { Command } from 'commander';
import { registerRunCommand } from './commands/run-command.ts';
import { registerWorkerCommand } from './commands/worker-command.ts';
import { registerEstimateCommand } from './commands/estimate-command.ts';
import { registerModelsCommand } from './commands/models-command.ts';
import { registerExpandCommand } from './commands/expand-command.ts';
import { registerProfilesCommand } from './commands/profiles-command.ts';
import { registerEvaluateCommand } from './commands/evaluate-command.ts';
import { registerExportCommand } from './commands/export-command.ts';
import { handleCliError } from './handle-cli-error.ts';

const program = new Command('persona-forge')
  .description('Synthetic persona-based conversation datasets with the Generator-Critic method')
  // A usage error is one line naming the flag and what it accepts (no help dump; `--help` has it).
  // Usage errors go through the one error handler, which exits 2 (bad input).
  .exitOverride();

registerRunCommand(program);
registerWorkerCommand(program);
registerEstimateCommand(program);
registerModelsCommand(program);
registerExpandCommand(program);
registerProfilesCommand(program);
registerEvaluateCommand(program);
registerExportCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  handleCliError(error);
}
