// Lets `import` find packages in the folders NODE_PATH names, as `require`
// does: Node.js resolves ES modules only from node_modules folders above the
// importing file, and the function's code folder has none of Kennel's. A bare
// specifier the function cannot resolve itself is resolved as if imported from
// inside each folder in turn.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let parents = [];

export function initialize({ dirs }) {
  parents = dirs.map((dir) => pathToFileURL(join(dir, 'resolve-from-here.mjs')).href);
}

const isBare = (specifier) => !/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw error;
    for (const parentURL of parents) {
      try {
        return await nextResolve(specifier, { ...context, parentURL });
      } catch {
        // not in this folder: try the next
      }
    }
    throw error;
  }
}
