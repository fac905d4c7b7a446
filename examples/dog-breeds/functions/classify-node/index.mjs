// The reference function: {"url": ...} or {"image_base64": ...} in, the endpoint's top-5 breeds out.
// Kennel injects AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME and the execution role's credentials, so the
// SDK's defaults reach Kennel's endpoint as this function's role; nothing here names Kennel.
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

const runtime = new SageMakerRuntimeClient({});
const endpointName = process.env.ENDPOINT_NAME ?? 'dog-breeds';

function request(event) {
  if (typeof event?.url === 'string') return { ContentType: 'application/json', Body: JSON.stringify({ url: event.url }) };
  if (typeof event?.image_base64 === 'string') return { ContentType: 'application/x-image', Body: Buffer.from(event.image_base64, 'base64') };
  return undefined;
}

export const handler = async (event) => {
  const input = request(event);
  if (!input) return { statusCode: 400, body: { message: 'Send {"url": "https://..."} or {"image_base64": "..."}' } };
  const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: endpointName, Accept: 'application/json', CustomAttributes: 'top_k=5', ...input }));
  const { predictions } = JSON.parse(new TextDecoder().decode(answer.Body));
  return { statusCode: 200, body: predictions.slice(0, 5).map(({ label, probability }) => ({ label, probability })) };
};
