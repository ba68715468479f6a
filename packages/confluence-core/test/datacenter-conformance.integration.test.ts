// The client's Data Center (v1) paths against a DC sandbox served under a context path, checked
// against REST-API.md: create + job property, pagination, version conflicts, properties, labels,
// title lookup with titles that need encoding, and credential failures.
import { assert, layer } from "@effect/vitest";
import { Effect, Option, Redacted } from "effect";
import { clientFor, credentialForms, TestSandbox, uniqueTitle } from "./helpers/sandbox.js";

const BODY = "<p>Data Center</p>";

layer(TestSandbox.layer("datacenter", { contextPath: "/confluence" }), { excludeTestServices: true })(
  "ConfluenceClient on Data Center (context path /confluence)",
  (it) => {
    // REST-API.md §4.1: `metadata.properties` on create is documented for Cloud v1 only; the job
    // property must exist on the page whether or not DC takes it with the create.
    it.scoped("createPage leaves the job property on the page", () =>
      Effect.gen(function* () {
        const sb = yield* TestSandbox;
        const client = yield* clientFor();
        const page = yield* client.createPage({
          spaceKey: "MEETINGS",
          title: uniqueTitle("Job property"),
          body: BODY,
          property: { key: "minutes.job", value: { jobId: "job-dc-1" } },
          labels: ["minutes"],
        });
        const stored = sb.state.properties(page.id).find((p) => p.key === "minutes.job");
        assert.deepStrictEqual(stored?.value, { jobId: "job-dc-1" });
        const read = yield* client.getProperty(page.id, "minutes.job");
        assert.isTrue(Option.isSome(read));
        assert.deepStrictEqual(yield* client.getLabels(page.id), ["minutes"]);
      }),
    );

    // REST-API.md §6.3: `_links.next` relative to `_links.base` (which has the context path).
    it.scoped("follows start/limit pages under the context path without dropping or repeating", () =>
      Effect.gen(function* () {
        const client = yield* clientFor({ pageSize: 2 });
        const parent = yield* client.createPage({
          spaceKey: "MEETINGS",
          title: uniqueTitle("Parent"),
          body: BODY,
        });
        const titles: string[] = [];
        for (let i = 0; i < 5; i++) {
          const child = yield* client.createPage({
            spaceKey: "MEETINGS",
            title: uniqueTitle(`Child ${i}`),
            body: BODY,
            parentId: parent.id,
          });
          titles.push(child.title);
        }
        const children = yield* client.getChildren(parent.id);
        assert.deepStrictEqual(children.map((c) => c.title).sort(), [...titles].sort());
      }),
    );

    // REST-API.md §7.2: stale version → 409 `Version must be incremented on update. Current version is: N`
    it.scoped("a stale version fails as a version conflict carrying the current version", () =>
      Effect.gen(function* () {
        const client = yield* clientFor();
        const page = yield* client.createPage({
          spaceKey: "MEETINGS",
          title: uniqueTitle("Stale"),
          body: BODY,
        });
        yield* client.updatePage({ id: page.id, title: page.title, body: "<p>v2</p>", version: 2 });
        const error = yield* Effect.flip(
          client.updatePage({
            id: page.id,
            title: page.title,
            body: "<p>other</p>",
            version: 2,
            refreshOnConflict: false,
          }),
        );
        assert.strictEqual(error._tag, "ConfluenceVersionConflictError");
        if (error._tag !== "ConfluenceVersionConflictError") return;
        assert.strictEqual(error.status, 409);
        assert.strictEqual(error.currentVersion, 2);
        assert.include(error.confluenceMessage ?? "", "Version must be incremented");
      }),
    );

    // REST-API.md §5.2: PUT with version 1 creates, N+1 updates; a missing key reads as none.
    it.scoped("content properties: missing key is none, set creates then updates with the next version", () =>
      Effect.gen(function* () {
        const client = yield* clientFor();
        const page = yield* client.createPage({
          spaceKey: "MEETINGS",
          title: uniqueTitle("Props"),
          body: BODY,
        });
        assert.isTrue(Option.isNone(yield* client.getProperty(page.id, "minutes.absent")));
        const first = yield* client.setProperty(page.id, "minutes.other", { n: 1 });
        assert.strictEqual(first.version, 1);
        const second = yield* client.setProperty(page.id, "minutes.other", { n: 2 });
        assert.strictEqual(second.version, 2);
        const missingPage = yield* Effect.flip(client.getProperty("999999999", "minutes.job"));
        assert.strictEqual(missingPage._tag, "ConfluenceNotFoundError");
      }),
    );

    // REST-API.md §4.4: exact title match; the title is a query value and must survive encoding.
    it.scoped("finds pages by titles with &, +, #, % and non-ASCII characters", () =>
      Effect.gen(function* () {
        const client = yield* clientFor();
        const suffix = uniqueTitle("");
        for (const title of [`Q&A 1+1=2 #3${suffix}`, `Встреча: итоги 100%${suffix}`]) {
          const page = yield* client.createPage({ spaceKey: "MEETINGS", title, body: BODY });
          const found = yield* client.findPageByTitle("MEETINGS", title);
          assert.isTrue(Option.isSome(found), title);
          if (Option.isSome(found)) assert.strictEqual(found.value.id, page.id);
        }
      }),
    );

    // REST-API.md §2.2: a wrong PAT is anonymous (no 401), wrong Basic credentials are 401.
    it.scoped("a wrong PAT and a wrong password fail as authentication errors without the secret", () =>
      Effect.gen(function* () {
        const sb = yield* TestSandbox;
        const pat = "wrong-personal-access-token";
        const anon = yield* clientFor({ auth: { type: "bearer", token: Redacted.make(pat) }, maxRetries: 0 });
        const e1 = yield* Effect.flip(anon.testConnection());
        assert.strictEqual(e1._tag, "ConfluenceAuthenticationError");
        if (e1._tag === "ConfluenceAuthenticationError") assert.strictEqual(e1.hint, "datacenter-anonymous");
        const basic = yield* clientFor({
          auth: { type: "basic", email: sb.user.username ?? "minutes-bot", token: Redacted.make("wrong-pw") },
          maxRetries: 0,
        });
        const e2 = yield* Effect.flip(basic.getSpace("MEETINGS"));
        assert.strictEqual(e2._tag, "ConfluenceAuthenticationError");
        assert.strictEqual(e2.status, 401);
        for (const e of [e1, e2])
          for (const s of [...credentialForms(sb, pat), pat, "wrong-pw"])
            assert.notInclude(JSON.stringify(e), s);
      }),
    );
  },
);
