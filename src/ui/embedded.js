/**
 * The browser UI's source texts, embedded by Bun's text loader: read from disk under
 * `bun src/main.ts`, compiled into the executable by `bun build --compile`. Plain JavaScript on
 * purpose: `tsc` reads `embedded.d.ts` instead of this file, so it never follows these imports
 * into the browser sources, which are type-checked on their own (client/tsconfig.json, with the
 * DOM library the server program must not see).
 */
import marked from 'marked' with { type: 'text' };
import dompurify from 'dompurify' with { type: 'text' };
import api from './client/api.ts' with { type: 'text' };
import artifactPage from './client/artifact-page.ts' with { type: 'text' };
import dom from './client/dom.ts' with { type: 'text' };
import flowRunPage from './client/flow-run-page.ts' with { type: 'text' };
import format from './client/format.ts' with { type: 'text' };
import listPage from './client/list-page.ts' with { type: 'text' };
import logsView from './client/logs-view.ts' with { type: 'text' };
import main from './client/main.ts' with { type: 'text' };
import markdown from './client/markdown.ts' with { type: 'text' };
import render from './client/render.ts' with { type: 'text' };
import runFormat from './client/run-format.ts' with { type: 'text' };
import runPages from './client/run-pages.ts' with { type: 'text' };
import style from './client/style.css' with { type: 'text' };
import icon from './client/icon.svg' with { type: 'text' };

/** Browser modules written in TypeScript, by file name. */
export const clientModules = {
  'api.ts': api,
  'artifact-page.ts': artifactPage,
  'dom.ts': dom,
  'flow-run-page.ts': flowRunPage,
  'format.ts': format,
  'list-page.ts': listPage,
  'logs-view.ts': logsView,
  'main.ts': main,
  'markdown.ts': markdown,
  'render.ts': render,
  'run-format.ts': runFormat,
  'run-pages.ts': runPages,
};

/** Third-party ES modules, by the bare specifier the client imports them with. */
export const vendorModules = { marked, dompurify };

export const stylesheet = style;
export const iconSvg = icon;
