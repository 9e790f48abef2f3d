import { ProfileError } from "@rtcp/core"

/** problem+json, the shape of AEP's newer services. */
export const problem = (status: number, title: string, detail: string, code?: string) => ({
  type: `https://ns.adobe.com/aep/errors/${code ?? `RTCP-${status}`}`,
  title,
  status,
  detail
})

export const badRequest = (detail: string, title = "Bad request") =>
  new ProfileError.BadRequest({ status: 400, message: detail, body: problem(400, title, detail) })

export const notFound = (detail: string, title = "Not found") =>
  new ProfileError.NotFound({ status: 404, message: detail, body: problem(404, title, detail) })

export const unprocessable = (detail: string, title = "Unprocessable entity", code?: string) =>
  new ProfileError.Unprocessable({ status: 422, message: detail, body: problem(422, title, detail, code) })

/** The UPS context error body of `/access/entities` (every field a string). */
export const upsError = (status: number, code: string, message: string) => ({
  message: `${code}:${message}`,
  cause: `Status Code - ${status} : ${message}`,
  statusCode: String(status)
})

export const tooManyRelatedIdentities = (count: number) =>
  new ProfileError.TooManyRelatedIdentities({
    status: 422,
    message: `Too many related identities (${count}; the limit is 50)`,
    body: upsError(422, "UPS-MRG-1000001", `Too many related identities: the identity graph links ${count} identities, more than 50`)
  })
