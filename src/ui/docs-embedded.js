/**
 * Swagger UI's files for the API reference at `/docs`, from the exact-pinned `swagger-ui-dist`
 * package: read from node_modules under `bun src/main.ts`, compiled into the executable by
 * `bun build --compile` (Bun's text loader), so the page needs no network. JavaScript for the
 * same reason as `embedded.js`: `tsc` reads `docs-embedded.d.ts` instead.
 */
import bundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'text' };
import bundleLicences from 'swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt' with { type: 'text' };
import stylesheet from 'swagger-ui-dist/swagger-ui.css' with { type: 'text' };
import licence from 'swagger-ui-dist/LICENSE' with { type: 'text' };
import notice from 'swagger-ui-dist/NOTICE' with { type: 'text' };
import manifest from 'swagger-ui-dist/package.json' with { type: 'json' };

/** `SwaggerUIBundle`, a classic (UMD) script that defines the global. */
export const swaggerUiBundle = bundle;
/** The third-party licences the bundle's first line points at, beside it. */
export const swaggerUiBundleLicences = bundleLicences;
export const swaggerUiStylesheet = stylesheet;
/** Swagger UI's own licence (Apache-2.0) and notice. */
export const swaggerUiLicence = `${notice.trim()}\n\n${licence}`;
export const swaggerUiVersion = manifest.version;
