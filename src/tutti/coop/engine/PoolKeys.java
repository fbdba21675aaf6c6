/*
 * The pool's key client for Parquet's key tools (parquet-mr / Spark): the pool keys of the members one job may
 * read, given as "pseudonym:base64(pool key), ..." in parquet.encryption.key.list, and nothing else.
 *
 * Keys are wrapped exactly as parquet-mr's in-memory KMS wraps them (KeyToolkit.encryptKeyLocally: AES-GCM under
 * the pool key, the pseudonym as associated data), which is what tutti.coop.pool.contract writes. Unlike that
 * test-only client (absent from the parquet-hadoop jar Spark ships), the keys live in this instance, not in a
 * static field shared by the whole JVM: parquet-mr caches one client per access token, so a job that uses its
 * own token sees only its own members' keys, whatever other jobs ran before in the same Spark application.
 */
package tutti.engine;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.crypto.KeyAccessDeniedException;
import org.apache.parquet.crypto.keytools.KeyToolkit;
import org.apache.parquet.crypto.keytools.KmsClient;

public final class PoolKeys implements KmsClient {
  public static final String KEY_LIST = "parquet.encryption.key.list";

  private final Map<String, byte[]> keys = new HashMap<>();

  @Override
  public synchronized void initialize(
      Configuration configuration, String kmsInstanceID, String kmsInstanceURL, String accessToken) {
    for (String entry : configuration.getTrimmedStrings(KEY_LIST)) {
      int colon = entry.indexOf(':');
      if (colon <= 0) {
        throw new KeyAccessDeniedException("a pool key list entry is not pseudonym:key");
      }
      keys.put(entry.substring(0, colon).trim(), Base64.getDecoder().decode(entry.substring(colon + 1).trim()));
    }
  }

  private synchronized byte[] key(String pseudonym) {
    byte[] key = keys.get(pseudonym);
    if (key == null) {
      throw new KeyAccessDeniedException("no pool key for this member in this job");
    }
    return key;
  }

  @Override
  public String wrapKey(byte[] keyBytes, String pseudonym) {
    return KeyToolkit.encryptKeyLocally(keyBytes, key(pseudonym), pseudonym.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public byte[] unwrapKey(String wrappedKey, String pseudonym) {
    return KeyToolkit.decryptKeyLocally(wrappedKey, key(pseudonym), pseudonym.getBytes(StandardCharsets.UTF_8));
  }
}
