// A peer of the credentials endpoint test: @aws-sdk/client-sts asks STS who it is, its default
// credential chain finding the credentials where the environment says
// (AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN). It prints the
// caller's ARN. Usage: node client-sts.mjs <sts endpoint> <region>
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const [endpoint, region] = process.argv.slice(2);
if (!endpoint || !region) {
  console.error("usage: node client-sts.mjs <sts endpoint> <region>");
  process.exit(2);
}
const client = new STSClient({ endpoint, region, maxAttempts: 1 });
try {
  const out = await client.send(new GetCallerIdentityCommand({}));
  console.log(out.Arn);
} catch (err) {
  console.error(`client-sts: ${err.name}: ${err.message}`);
  process.exit(1);
} finally {
  client.destroy();
}
