/**
 * ARNs use partition `aws` and the fixed local account, so policies written for
 * Kennel copy to AWS unchanged (DESIGN §4).
 */
export const ACCOUNT_ID = '000000000000';
export const DEFAULT_REGION = 'us-east-1';

export function userArn(userName: string): string {
  return `arn:aws:iam::${ACCOUNT_ID}:user/${userName}`;
}
