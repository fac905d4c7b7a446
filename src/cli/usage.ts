import { relative } from 'node:path';

export interface UsageContext {
  url: string;
  endpointName: string;
  credentialsFile: string;
  imagePath: string;
  region: string;
}

/** A shell-quoted string: safe to paste whatever the path contains. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Paths relative to the working directory when they are inside it: shorter to paste. */
function friendly(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/**
 * A curl command that classifies one image, signed with SigV4 by curl itself. The
 * keys are read from the credentials file at run time, so the secret never lands
 * in the terminal's scrollback.
 */
export function curlExample(ctx: UsageContext): string {
  const credentials = quote(friendly(ctx.credentialsFile));
  return [
    `curl --aws-sigv4 "aws:amz:${ctx.region}:sagemaker" \\`,
    `  --user "$(awk -F' *= *' '/^aws_access_key_id/{k=$2} /^aws_secret_access_key/{s=$2} END{print k":"s}' ${credentials})" \\`,
    `  -H 'Content-Type: image/jpeg' --data-binary @${quote(friendly(ctx.imagePath))} \\`,
    `  ${ctx.url}/endpoints/${ctx.endpointName}/invocations`,
  ].join('\n');
}

/** The same call with the AWS SDK for JavaScript v3: only the endpoint URL differs from AWS. */
export function sdkExample(ctx: UsageContext): string {
  return [
    `// AWS_SHARED_CREDENTIALS_FILE=${quote(ctx.credentialsFile)} AWS_PROFILE=kennel node classify.mjs`,
    `import { readFileSync } from 'node:fs';`,
    `import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';`,
    ``,
    `const client = new SageMakerRuntimeClient({ endpoint: '${ctx.url}', region: '${ctx.region}' });`,
    `const answer = await client.send(new InvokeEndpointCommand({`,
    `  EndpointName: '${ctx.endpointName}',`,
    `  ContentType: 'image/jpeg',`,
    `  Body: readFileSync(${JSON.stringify(ctx.imagePath)}),`,
    `}));`,
    `console.log(JSON.parse(new TextDecoder().decode(answer.Body)).predictions);`,
  ].join('\n');
}
