/**
 * The simulated endpoint in its own process (forked by `bench/processes.ts`), so its CPU never
 * counts as persona-forge's and the two never share one event loop. IPC messages:
 * `{type:'stats'}`, `{type:'reset'}`, `{type:'set', options}`, `{type:'close'}`.
 */
import { startSimulatedEndpoint, type SimulatedEndpointOptions } from './simulated-endpoint.ts';

process.once('message', async (options: SimulatedEndpointOptions) => {
  const endpoint = await startSimulatedEndpoint(options);
  process.on('message', async (message: { type: string; id: number; options?: Partial<SimulatedEndpointOptions> }) => {
    switch (message.type) {
      case 'stats':
        process.send!({ type: 'stats', id: message.id, stats: endpoint.stats() });
        break;
      case 'reset':
        endpoint.reset();
        process.send!({ type: 'reset', id: message.id });
        break;
      case 'set':
        endpoint.setOptions(message.options ?? {});
        process.send!({ type: 'set', id: message.id });
        break;
      case 'close':
        await endpoint.close();
        process.send!({ type: 'close', id: message.id }, () => process.exit(0));
        break;
    }
  });
  process.send!({ type: 'ready', baseUrl: endpoint.baseUrl });
});
