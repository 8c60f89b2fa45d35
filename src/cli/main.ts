#!/usr/bin/env node
// coroner's command line. Exit codes are a promise: 0 ok, 1 a gate or finding tripped, 2 error.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CoronerError, errorLine } from '../base/errors.js';
import { ingestCommand } from './ingest.js';
import { packCommand } from './pack.js';
import { STDIN_PATH } from '../inputs/stdin.js';
import { censusCommand, listCommand, showCommand } from './show.js';
import { CENSUS_TOP } from '../format/text.js';
import { reportCommand } from './report.js';
import { diffCommand, seriesCommand } from './diff.js';
import { checkCommand, DEFAULT_LIMITS } from './check.js';
import { LIMITS, serveCommand } from './serve.js';
import { UPLOAD_DEFAULTS, uploadCommand } from './upload.js';
import { EXIT_ERROR, EXIT_OK } from './exit.js';
import { printable } from '../base/printable.js';
import { DEFAULT_MAX_UNPACKED } from '../inputs/unpack-budget.js';

/** --max-unpacked's default, as people write sizes. */
const MAX_UNPACKED = `${DEFAULT_MAX_UNPACKED / 1e9}G`;


function withDb<T>(y: Argv<T>) {
  return y.option('db', {
    type: 'string',
    default: process.env.CORONER_DB || 'coroner.db',
    defaultDescription: '$CORONER_DB or ./coroner.db',
    describe: 'the SQLite database',
  });
}

/** The options of every command that ingests cores (ingest, check). */
function ingestOptions<T>(y: Argv<T>) {
  return withDb(y)
    .option('force', { type: 'boolean', default: false, describe: 'analyze again a core already stored' })
    .option('exe', { type: 'string', describe: 'the executable, when not where the core says' })
    .option('sysroot', { type: 'string', describe: "folder with the files of the core's machine (gdb's sysroot)" })
    .option('debug-dir', { type: 'string', describe: 'folder with separate debug info (gdb debug-file-directory)' })
    .option('debuginfod', { type: 'boolean', default: false, describe: 'let gdb fetch missing debug info from debuginfod' })
    .option('timeout', { type: 'number', default: 300, describe: 'seconds gdb may take per core' })
    .option('jobs', { type: 'number', describe: 'cores analyzed in parallel (default: number of CPUs)' })
    .option('series', { type: 'string', describe: 'name of the series these dumps belong to' })
    .option('taken-at', { type: 'string', describe: 'capture time (ISO 8601) instead of the core file mtime' })
    .option('keep-cores', { type: 'string', describe: 'keep the copies of archive members and stdin here (by sha256), so that diff can still find who holds the growth' })
    .option('max-unpacked', { type: 'string', default: MAX_UNPACKED, describe: 'the most bytes of cores one archive may unpack (a member beyond it fails, the others go on)' });
}

async function main(): Promise<number> {
  let code = EXIT_OK;
  const setCode = (c: number): void => {
    code = c;
  };
  // yargs drops a lone "-" (standard input) from positionals: it goes in as /dev/stdin, the same input.
  await yargs(hideBin(process.argv).map((arg) => (arg === '-' ? STDIN_PATH : arg)))
    .scriptName('coroner')
    .usage('$0 <command>\n\nOffline analysis of core dumps of Python processes.')
    .command(
      'ingest <cores..>',
      'analyze cores (files, folders, tar/tar.gz archives, bundles, - for stdin) with gdb and store them',
      (y) =>
        ingestOptions(y.positional('cores', { type: 'string', array: true, demandOption: true, describe: 'core files, folders of cores, archives, bundles, or - (stdin)' }))
          .option('json', { type: 'boolean', default: false, describe: 'print the outcomes as JSON' }),
      async (a) => setCode(await ingestCommand(a)),
    )
    .command(
      'pack <core>',
      "bundle a core with the files it mapped and their debug files, for analysis on another machine",
      (y) =>
        y
          .positional('core', { type: 'string', demandOption: true, describe: 'the core file' })
          .option('out', { alias: 'o', type: 'string', describe: 'the bundle to write', defaultDescription: 'CORE.bundle.tar.gz' })
          .option('debug-dir', { type: 'string', default: '/usr/lib/debug', describe: 'where separate debug files are (by .build-id)' }),
      async (a) => setCode(await packCommand(a)),
    )
    .command(
      'list',
      'list the stored dumps',
      (y) => withDb(y).option('json', { type: 'boolean', default: false }),
      (a) => setCode(listCommand(a)),
    )
    .command(
      'show <dump>',
      'show one dump: verdict, findings, threads and their stacks (by id, core path or sha256 prefix)',
      (y) =>
        withDb(y)
          .positional('dump', { type: 'string', demandOption: true })
          .option('locals', { type: 'boolean', default: false, describe: 'print the locals of every Python frame' })
          .option('native', { type: 'boolean', default: false, describe: 'the merged stacks: every native frame, each Python frame under the eval loop that runs it' })
          .option('thread', { type: 'string', describe: 'only this thread (its name or LWP)' })
          .option('json', { type: 'boolean', default: false }),
      (a) => setCode(showCommand(a)),
    )
    .command(
      'census <dump>',
      'every live Python object of a dump, by type, heaviest first',
      (y) =>
        withDb(y)
          .positional('dump', { type: 'string', demandOption: true })
          .option('top', { type: 'number', defaultDescription: `${CENSUS_TOP} (--json: all)`, describe: 'only the N heaviest types' })
          .option('all', { type: 'boolean', default: false, describe: 'every type' })
          .option('json', { type: 'boolean', default: false }),
      (a) => setCode(censusCommand(a)),
    )
    .command(
      'diff <a> <b>',
      'what grew between two dumps, who holds it; --fail-on-growth gates CI',
      (y) =>
        withDb(y)
          .positional('a', { type: 'string', demandOption: true, describe: 'the earlier dump' })
          .positional('b', { type: 'string', demandOption: true, describe: 'the later dump' })
          .option('top', { type: 'number', default: 20, describe: 'types shown' })
          .option('fail-on-growth', { type: 'string', array: true, describe: 'exit 1 when growth exceeds: 20%, 50MB, TYPE:10%, TYPE:+1000 objects' })
          .option('holders', { type: 'boolean', default: true, describe: 'find who holds the growth (walks the later core again)' })
          .option('json', { type: 'boolean', default: false }),
      async (a) => setCode(await diffCommand(a)),
    )
    .command(
      'check <dir>',
      'ingest every core in a folder and apply the growth gate to each process (exit 1 when it trips)',
      (y) =>
        ingestOptions(y.positional('dir', { type: 'string', demandOption: true, describe: 'folder (or archive) of cores' }))
          .option('fail-on-growth', { type: 'string', array: true, describe: `limits, as for diff (default: ${DEFAULT_LIMITS.join(', ')})` })
          .option('json', { type: 'boolean', default: false }),
      async (a) => setCode(await checkCommand(a)),
    )
    .command(
      'series',
      'the dumps of each process, ordered by capture time',
      (y) => withDb(y).option('json', { type: 'boolean', default: false }),
      (a) => setCode(seriesCommand(a)),
    )
    .command(
      'report',
      'write a static HTML report of the stored dumps',
      (y) =>
        withDb(y)
          .option('out', { type: 'string', default: 'report', describe: 'output folder' })
          .option('dump', { type: 'string', array: true, describe: 'only these dumps (default: all)' }),
      async (a) => setCode(await reportCommand(a)),
    )
    .command(
      'serve',
      'take cores over HTTP (PUT /api/cores), analyze them and serve the report',
      (y) =>
        withDb(y)
          .option('port', { type: 'number', default: 8080, describe: 'TCP port (0: any free one, printed on the first line)' })
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (0.0.0.0 for every interface)' })
          .option('token', { type: 'string', default: process.env.CORONER_TOKEN, defaultDescription: '$CORONER_TOKEN', describe: 'the secret clients send as Authorization: Bearer T' })
          .option('max-upload', { type: 'string', default: '8G', describe: 'largest upload accepted (e.g. 8G, 500M)' })
          .option('out', { type: 'string', describe: 'report folder (default: report/ next to the database)' })
          .option('jobs', { type: 'number', describe: 'uploads analyzed in parallel (default: number of CPUs)' })
          .option('timeout', { type: 'number', default: 300, describe: 'seconds gdb may take per core' })
          .option('keep-cores', { type: 'string', describe: 'keep uploaded cores here (by sha256), so that diff can still find who holds the growth' })
          .option('max-unpacked', { type: 'string', default: MAX_UNPACKED, describe: 'the most bytes of cores one uploaded archive may unpack' })
          .option('max-connections', { type: 'number', default: LIMITS.maxConnections, describe: 'connections open at once, from all clients' })
          .option('max-per-client', { type: 'number', default: LIMITS.maxPerClient, describe: 'connections open at once from one client address' })
          .option('header-timeout', { type: 'number', default: LIMITS.headersMs / 1000, describe: 'seconds a client has to send all of a request\'s headers' })
          .option('body-timeout', { type: 'number', default: LIMITS.bodyMs / 1000, describe: 'seconds an upload\'s body may send nothing before it is dropped' }),
      async (a) => setCode(await serveCommand(a)),
    )
    .command(
      'upload <file>',
      'send a core (or an archive of cores) to a coroner server',
      (y) =>
        y
          .positional('file', { type: 'string', demandOption: true, describe: 'the core or archive' })
          .option('url', { type: 'string', demandOption: true, describe: "the server's URL, e.g. http://host:8080" })
          .option('token', { type: 'string', default: process.env.CORONER_TOKEN, defaultDescription: '$CORONER_TOKEN', describe: "the server's token" })
          .option('wait', { type: 'boolean', default: false, describe: 'wait until the analysis is done and print the dump ids' })
          .option('wait-timeout', { type: 'number', default: UPLOAD_DEFAULTS.waitTimeout, describe: 'seconds --wait waits for the analysis (exit 2 after)' })
          .option('connect-timeout', { type: 'number', default: UPLOAD_DEFAULTS.connectTimeout, describe: 'seconds to wait for the connection to the server' })
          .option('idle-timeout', { type: 'number', default: UPLOAD_DEFAULTS.idleTimeout, describe: 'seconds the server may send nothing (once connected) before giving up' }),
      async (a) => setCode(await uploadCommand(a)),
    )
    .demandCommand(1, 'name a command: ingest, pack, list, show, census or report')
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      throw err ?? new CoronerError(`${msg} (coroner --help lists the commands)`, 'usage');
    })
    .parseAsync();
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (process.env.CORONER_DEBUG && err instanceof Error) console.error(err.stack);
    console.error(`coroner: ${printable(errorLine(err))}`);
    process.exitCode = EXIT_ERROR;
  },
);
