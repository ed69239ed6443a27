import { Command } from 'commander';
import { registerRunCommand } from './commands/run-command.ts';
import { handleCliError } from './handle-cli-error.ts';

const program = new Command('persona-forge')
  .description('Synthetic persona-based conversation datasets with the Generator-Critic method')
  .showHelpAfterError();

registerRunCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  handleCliError(error);
}
