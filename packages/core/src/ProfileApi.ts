/**
 * The contract: every operation of the Real-Time Customer Profile API as one
 * `HttpApi`. The typed client, the local profile service and the OpenAPI
 * document are all derived from it.
 *
 * @since 0.1.0
 */
import { HttpApi, OpenApi } from "@effect/platform"
import { ComputedAttributesGroup } from "./ComputedAttribute.js"
import { DestinationsGroup, ProjectionsGroup } from "./EdgeProjection.js"
import { EntitiesGroup } from "./Entity.js"
import { RtcpGroup } from "./Explain.js"
import { ExportJobsGroup } from "./ExportJob.js"
import { ImsGroup } from "./ImsToken.js"
import { MergePoliciesGroup } from "./MergePolicy.js"
import { PreviewSampleStatusGroup } from "./PreviewSampleStatus.js"
import { SystemJobsGroup } from "./SystemJob.js"

export class ProfileApi extends HttpApi.make("ProfileApi")
  .add(EntitiesGroup)
  .add(MergePoliciesGroup)
  .add(ComputedAttributesGroup)
  .add(ExportJobsGroup)
  .add(PreviewSampleStatusGroup)
  .add(SystemJobsGroup)
  .add(ProjectionsGroup)
  .add(DestinationsGroup)
  .add(ImsGroup)
  // rtcp's own extensions (served by the local Profile API only); left out of the OpenAPI document.
  .add(RtcpGroup)
  .annotateContext(
    OpenApi.annotations({
      title: "Real-Time Customer Profile API (rtcp)",
      version: "0.1.0",
      description:
        "Adobe Experience Platform's Real-Time Customer Profile API as rtcp understands it: every operation of " +
        "Adobe's OpenAPI document plus the endpoints documented only in the guides (export jobs, overlap reports, " +
        "edge projections and destinations) and the IMS token endpoint. Platform paths are served from " +
        "https://platform.adobe.io; /ims/token/v3 from the IMS host.",
      servers: [{ url: "https://platform.adobe.io", description: "Platform gateway (IMS on https://ims-na1.adobelogin.com)" }]
    })
  ) {}

/** The document `npm run openapi` prints. */
export const openApiDocument = () => OpenApi.fromApi(ProfileApi)
