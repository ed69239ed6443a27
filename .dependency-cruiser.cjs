/**
 * The floors of src/, from the top: cli (and config, read at the edge) -> executors -> pipeline ->
 * stages (personas, generation, critique, evaluation, output) -> llm -> schemas, util -> errors.ts.
 * An import may only point down. See docs/architecture.md.
 * Run: npm run check:layers
 */
const STAGES = '(personas|generation|critique|evaluation|output)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files that import each other cannot be read, tested or moved one at a time.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'errors-at-the-bottom',
      severity: 'error',
      comment: 'src/errors.ts holds the shared error classes; it imports nothing of ours.',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'schemas-and-util-import-only-down',
      severity: 'error',
      comment: 'schemas/ and util/ are the ground floor: they may import each other and errors.ts only.',
      from: { path: '^src/(schemas|util)/' },
      to: { path: '^src/', pathNot: '^src/(schemas|util)/|^src/errors\\.ts$' },
    },
    {
      name: 'llm-imports-only-down',
      severity: 'error',
      comment:
        'llm/ (the port, its decorators and adapters) knows no stage, pipeline, executor or CLI; stores come in through ports (ResponseCache, RateLimiter).',
      from: { path: '^src/llm/' },
      to: { path: `^src/(${STAGES.slice(1, -1)}|pipeline|executors|cli|config)/|^src/index\\.ts$` },
    },
    {
      name: 'stages-import-only-down',
      severity: 'error',
      comment: 'A stage is a function of (input, deps): it knows no pipeline, executor or CLI.',
      from: { path: `^src/${STAGES}/` },
      to: { path: '^src/(pipeline|executors|cli|config)/|^src/index\\.ts$' },
    },
    {
      name: 'stages-are-siblings',
      severity: 'error',
      comment:
        'personas, generation, critique and output do not import one another (what two share goes down to llm/, schemas/ or util/).',
      from: { path: '^src/(personas|generation|critique|output)/' },
      to: { path: `^src/${STAGES}/`, pathNot: '^src/$1/' },
    },
    {
      name: 'evaluation-reads-datasets-only',
      severity: 'error',
      comment: 'evaluation/ may read what personas/ imports and output/ writes; it does not generate or critique.',
      from: { path: '^src/evaluation/' },
      to: { path: '^src/(generation|critique)/' },
    },
    {
      name: 'pipeline-imports-only-down',
      severity: 'error',
      comment:
        'pipeline/ owns the Executor port and the in-process executor; it never imports an executor adapter or the CLI.',
      from: { path: '^src/pipeline/' },
      to: { path: '^src/(executors|cli|config)/|^src/index\\.ts$' },
    },
    {
      name: 'executors-import-only-down',
      severity: 'error',
      comment: 'executors/ (BullMQ and its Redis stores) is driven by the CLI, never the other way round.',
      from: { path: '^src/executors/' },
      to: { path: '^src/(cli|config)/|^src/index\\.ts$' },
    },
    {
      name: 'config-at-the-edge',
      severity: 'error',
      comment:
        'Configuration is read once at the edge: only cli/ and the library entry import config/; config/ imports only down to schemas/util.',
      from: { path: '^src/', pathNot: '^src/(cli|config)/|^src/index\\.ts$' },
      to: { path: '^src/config/' },
    },
    {
      name: 'config-imports-only-down',
      severity: 'error',
      comment:
        'config/ reads and checks the configuration: it may use llm/ (model defaults), schemas/, util/ and errors.ts, never a stage, the pipeline, an executor or the CLI.',
      from: { path: '^src/config/' },
      to: { path: `^src/(${STAGES.slice(1, -1)}|pipeline|executors|cli)/|^src/index\\.ts$` },
    },
    {
      name: 'not-to-dev-dependencies',
      severity: 'error',
      comment: 'Shipped code must not need a devDependency at run time.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
