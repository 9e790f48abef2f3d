// Prints the contract as an OpenAPI 3 document: `npm run openapi > profile.json`.
import { openApiDocument } from "../src/ProfileApi.js"

process.stdout.write(JSON.stringify(openApiDocument(), null, 2) + "\n")
