import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startFakeOpenAI, type FakeOpenAI } from '../../testing/src/fake-openai-server.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { ProviderError } from './provider-error.ts';

let fake: FakeOpenAI;
let chat: OpenAIChatModel;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  chat = new OpenAIChatModel({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake-chat' });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.setFault(null);
  fake.requests.length = 0;
});

describe('OpenAIChatModel against an OpenAI-compatible server', () => {
  it('sends the conversation and returns the reply text', async () => {
    const question = `Context: [1] BullMQ retries failed jobs. ${'x'.repeat(300)}\nQuestion: how are jobs retried?`;
    const answer = await chat.complete(
      [
        { role: 'system', content: 'Answer from the context and cite it.' },
        { role: 'user', content: question },
      ],
      { maxTokens: 300, temperature: 0 },
    );
    expect(answer).toBe(`ANSWER: ${question.slice(0, 200)}`);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      path: '/v1/chat/completions',
      body: {
        model: 'fake-chat',
        max_tokens: 300,
        temperature: 0,
        messages: [{ role: 'system' }, { role: 'user', content: question }],
      },
    });
  });

  it('leaves out the options it was not given', async () => {
    await chat.complete([{ role: 'user', content: 'hi' }]);
    expect(fake.requests[0]!.body).not.toHaveProperty('max_tokens');
    expect(fake.requests[0]!.body).not.toHaveProperty('temperature');
  });

  it('on 503 throws a retryable ProviderError and on 400 a permanent one', async () => {
    fake.setFault({ status: 503, times: 1 });
    const unavailable = await chat.complete([{ role: 'user', content: 'hi' }]).catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(ProviderError);
    expect(unavailable).toMatchObject({ status: 503, retryable: true });

    fake.setFault({ status: 400, times: 1 });
    const rejected = await chat.complete([{ role: 'user', content: 'hi' }]).catch((e: unknown) => e);
    expect(rejected).toMatchObject({ status: 400, retryable: false });
    expect(fake.requests).toHaveLength(2);
  });

  it('when the server is slower than the timeout, throws a retryable timeout', async () => {
    fake.setFault({ delayMs: 2000 });
    const quick = new OpenAIChatModel({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake-chat', timeoutMs: 200 });
    const started = Date.now();
    const error = await quick.complete([{ role: 'user', content: 'hi' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'provider_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
