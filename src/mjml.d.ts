// mjml 5 ships no types; this is the part Paperboy uses.
declare module 'mjml' {
  interface MjmlOptions {
    filePath?: string;
    ignoreIncludes?: boolean;
    includePath?: string | string[];
    validationLevel?: 'strict' | 'soft' | 'skip';
    minify?: boolean;
  }
  interface MjmlResult {
    html: string;
    errors: { message: string; line: number; tagName: string }[];
  }
  export default function mjml2html(source: string, options?: MjmlOptions): Promise<MjmlResult>;
}
