/** Types of `docs-embedded.js` (see there for why it is JavaScript). */
export declare const swaggerUiBundle: string;
export declare const swaggerUiBundleLicences: string;
export declare const swaggerUiStylesheet: string;
export declare const swaggerUiLicence: string;
export declare const swaggerUiVersion: string;
