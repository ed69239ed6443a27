import { Command } from 'commander';
import { registerRunCommand } from './commands/run-command.ts';
import { registerModelsCommand } from './commands/models-command.ts';
import { handleCliError } from './handle-cli-error.ts';

const program = new Command('persona-forge')
  .description('Synthetic persona-based conversation datasets with the Generator-Critic method')
  .showHelpAfterError()
  // Usage errors go through the one error handler, which exits 2 (bad input).
  .exitOverride();

registerRunCommand(program);
registerModelsCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  handleCliError(error);
}
