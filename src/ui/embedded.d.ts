/** Types of `embedded.js` (see there for why it is JavaScript). */
export declare const clientModules: Record<string, string>;
export declare const vendorModules: Record<'marked' | 'dompurify', string>;
export declare const stylesheet: string;
export declare const iconSvg: string;
