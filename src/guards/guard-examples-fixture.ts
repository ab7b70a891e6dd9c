import { generateApiKey } from '../auth/api-key-format.ts'

/**
 * Examples shared by the detector tests and the stream tests: each text contains exactly the
 * listed values (in order), so a test can check both what was found and where.
 */
export interface Example {
  readonly text: string
  readonly values: ReadonlyArray<readonly [type: string, value: string]>
}

const jwt = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url') + '.' +
  Buffer.from('{"sub":"1234567890","name":"x"}').toString('base64url') + '.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'
const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----'
const portcullisKey = generateApiKey().secret
const emailBase64 = Buffer.from('reach me at jane@example.org please').toString('base64')

export const piiExamples: readonly Example[] = [
  { text: 'Mail john.doe+work@example.co.uk today.', values: [['email', 'john.doe+work@example.co.uk']] },
  { text: '邮箱：ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ 谢谢', values: [['email', 'ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ']] },
  { text: 'write to j\u200bo\u200dhn@exa\u200bmple.com now', values: [['email', 'j\u200bo\u200dhn@exa\u200bmple.com']] },
  { text: 'Call +1 (415) 555-2671 tonight', values: [['phone', '+1 (415) 555-2671']] },
  { text: 'office 415-555-2671 ext', values: [['phone', '415-555-2671']] },
  { text: 'UK +44 20 7946 0958.', values: [['phone', '+44 20 7946 0958']] },
  { text: '手机号码：13800138000，谢谢', values: [['phone', '13800138000']] },
  { text: '电话 +86 139-1234-5678 联系', values: [['phone', '+86 139-1234-5678']] },
  { text: '手机：１３８ ００１３ ８０００。', values: [['phone', '１３８ ００１３ ８０００']] },
  { text: 'Visa 4111 1111 1111 1111 exp 12/29', values: [['payment_card', '4111 1111 1111 1111']] },
  { text: 'amex:378282246310005;', values: [['payment_card', '378282246310005']] },
  { text: 'mc 5555-5555-5555-4444.', values: [['payment_card', '5555-5555-5555-4444']] },
  { text: 'IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX', values: [['iban', 'DE89 3704 0044 0532 0130 00']] },
  { text: 'pay GB82WEST12345698765432 now', values: [['iban', 'GB82WEST12345698765432']] },
  { text: 'SSN: 078-05-1120.', values: [['us_ssn', '078-05-1120']] },
  { text: '身份证号：11010519491231002X。', values: [['cn_resident_id', '11010519491231002X']] },
  { text: 'id 440308199901010012 ok', values: [['cn_resident_id', '440308199901010012']] },
  { text: 'client 203.0.113.7 connected', values: [['ipv4', '203.0.113.7']] },
  { text: 'from [2001:db8::8a2e:370:7334]:443', values: [['ipv6', '2001:db8::8a2e:370:7334']] },
  { text: 'DOB: 03/07/1985, thanks', values: [['date_of_birth', '03/07/1985']] },
  { text: 'He was born on 12 March 1990 in Leeds', values: [['date_of_birth', '12 March 1990']] },
  { text: 'Date of birth: March 12, 1990.', values: [['date_of_birth', 'March 12, 1990']] },
  { text: '出生日期：1990年3月12日，籍贯北京', values: [['date_of_birth', '1990年3月12日']] },
  { text: 'blob ' + emailBase64 + ' end', values: [['email', emailBase64]] },
  { text: 'url ?to=jane%40example.org&x=1 end', values: [['email', '?to=jane%40example.org&x=1']] },
  { text: 'a@b.io and c.d@e-f.org', values: [['email', 'a@b.io'], ['email', 'c.d@e-f.org']] }
]

export const secretExamples: readonly Example[] = [
  { text: 'key=sk-proj-abc123DEF456ghi789JKL012mno345PQR678stu901VWX done', values: [['secret.openai', 'sk-proj-abc123DEF456ghi789JKL012mno345PQR678stu901VWX']] },
  { text: 'legacy sk-' + 'T3BlbkFJ' + 'a1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8' + '.', values: [['secret.openai', 'sk-T3BlbkFJa1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8']] },
  { text: 'x-api-key: sk-ant-api03-' + 'aB3_'.repeat(23) + 'AA', values: [['secret.anthropic', 'sk-ant-api03-' + 'aB3_'.repeat(23) + 'AA']] },
  { text: 'AWS AKIAIOSFODNN7EXAMPLE here', values: [['secret.aws_access_key', 'AKIAIOSFODNN7EXAMPLE']] },
  { text: 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n', values: [['secret.aws_secret_key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY']] },
  { text: 'token ghp_' + 'a1B2c3'.repeat(6) + ' ok', values: [['secret.github', 'ghp_' + 'a1B2c3'.repeat(6)]] },
  { text: 'slack xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp ok', values: [['secret.slack', 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp']] },
  { text: 'maps AIzaSyD-1234567890abcdefghijklmnopqrstu ok', values: [['secret.google_api_key', 'AIzaSyD-1234567890abcdefghijklmnopqrstu']] },
  { text: 'stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc ok', values: [['secret.stripe', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc']] },
  { text: 'Authorization: Bearer ' + jwt + '\n', values: [['secret.jwt', jwt]] },
  { text: 'Authorization: Bearer abc123def456ghi789jkl\n', values: [['secret.bearer', 'abc123def456ghi789jkl']] },
  { text: 'my key:\n' + pem + '\nthanks', values: [['secret.private_key', pem]] },
  { text: 'gateway key ' + portcullisKey + ' leaked', values: [['secret.portcullis', portcullisKey]] },
  { text: 'config password = "Tr0ub4dor&3xyz"', values: [['secret.generic', 'Tr0ub4dor&3xyz']] },
  { text: '密钥是ｓｋ－ｐｒｏｊ－ａｂｃ１２３ＤＥＦ４５６ｇｈｉ７８９ＪＫＬ０１２ｍｎｏ３４５ＰＱＲ。', values: [['secret.openai', 'ｓｋ－ｐｒｏｊ－ａｂｃ１２３ＤＥＦ４５６ｇｈｉ７８９ＪＫＬ０１２ｍｎｏ３４５ＰＱＲ']] }
]

/** Texts that must produce no finding at all. */
export const hardNegatives: readonly string[] = [
  'Order number 20240315123456 and order #1234567890123456 shipped.',
  'Tracking 1Z999AA10123456784 and 9400111899223197428490.',
  'Upgrade from v1.2.3.4 to version 10.0.0.1; build 2.14.3 on node 24.1.0.',
  'Request id 123e4567-e89b-12d3-a456-426614174000 at 2024-01-15T12:30:45Z.',
  'Random 16 digits 1234567812345678 and 4111111111111112 are not cards.',
  'Timestamps 1700000000000 and 1700000000 and 12:30:45 and 2024-03-15.',
  'Meeting on 2024-03-15 about the 3.1 release; revenue $4.2M (+12.5%).',
  'std::vector<int> v; a::b::c; 00:1A:2B:3C:4D:5E is a MAC address.',
  'Invalid SSNs: 000-12-3456, 666-12-3456, 900-12-3456; ID 110105194912310021 has a bad checksum.',
  'The sk-learn library, a desk-top, eyJust, and the bearer of bad news.',
  'password: changeme, api_key=${API_KEY}, secret_key: <your-key-here>',
  'An internationalization library; hash 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.',
  'pcl_' + 'a'.repeat(16) + '_' + 'b'.repeat(49) + ' is not a valid key (checksum).',
  '生日快乐！我们在2024年3月15日见面，订单号１２３４５６７８９０１２。',
  'He was born in 1990 and the birthday party is at 7 pm.'
]
