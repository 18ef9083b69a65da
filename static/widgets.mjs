// Which widgets the front-end build bundles: every installed activity, wherever its package lives.
//
// Activities are found the way the server finds them, through the `socialads.widgets` entry
// points, so a third-party package installed in the venv is built exactly like widgets/pledge.
// We ask Python (`socialads widgets --json`) rather than scanning folders; the interpreter is
// $PYTHON, or the project's .venv/bin/python.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The Python that has socialads (and the installed activities) importable. */
export function pythonFor(root, env = process.env) {
  return env.PYTHON || path.join(root, '.venv', 'bin', 'python');
}

/** [{name, folder}] of every installed activity, sorted by name. */
export function installedWidgets(root, env = process.env) {
  const python = pythonFor(root, env);
  const run = spawnSync(python, ['-m', 'socialads', 'widgets', '--json'], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  if (run.error || run.status !== 0) {
    const why = run.error ? run.error.message : run.stderr.trim();
    throw new Error(
      `could not list the installed activities with ${python} (set PYTHON, or run \`make install\`): ${why}`,
    );
  }
  const widgets = JSON.parse(run.stdout);
  for (const { name, folder } of widgets) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`activity name ${JSON.stringify(name)}: use a-z, 0-9, _ and -`);
    if (!path.isAbsolute(folder)) throw new Error(`activity ${name}: folder ${folder} is not absolute`);
  }
  return widgets.sort((a, b) => a.name.localeCompare(b.name));
}

/** esbuild entry points for one file name (widget.js or widget.css): {in, out: name}. */
export function widgetEntries(widgets, file) {
  return widgets
    .filter(({ folder }) => existsSync(path.join(folder, file)))
    .map(({ name, folder }) => ({ in: path.join(folder, file), out: name }));
}
