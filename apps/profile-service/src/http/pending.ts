import { ProfileError } from "@rtcp/core"

// Endpoint families whose local behaviour is still being built answer 501
// with AEP's problem body, so a client sees exactly what is missing.
export const pending = (family: string) =>
  new ProfileError.ServerError({
    status: 501,
    message: `${family} is not served by the local profile service yet`,
    body: {
      type: "https://ns.adobe.com/aep/errors/RTCP-501",
      title: "Not served locally yet",
      status: 501,
      detail: `${family} is not served by the local profile service yet`
    }
  })
