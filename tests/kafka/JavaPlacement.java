// The Java client as the oracle: produces each key read from stdin (one hex
// key per line; "-" for a NULL key) through a real KafkaProducer with its
// default partitioner (KIP-794's BuiltInPartitioner), value = the line's
// index, then flushes. Where each key went is read back from the brokers.
//
//   java -cp 'target/kafka/lib/*' tests/kafka/JavaPlacement.java BOOTSTRAP TOPIC [key=value ...]
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class JavaPlacement {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
        for (int i = 2; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        AtomicReference<Exception> failed = new AtomicReference<>();
        long sent = 0;
        try (KafkaProducer<byte[], byte[]> p =
                 new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
             BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                byte[] key = line.equals("-") ? null : HexFormat.of().parseHex(line);
                byte[] value = Long.toString(sent++).getBytes(StandardCharsets.UTF_8);
                p.send(new ProducerRecord<>(args[1], key, value), (md, e) -> { if (e != null) failed.set(e); });
            }
            p.flush();
        }
        if (failed.get() != null) {
            throw failed.get();
        }
        System.out.println(sent);
    }
}
