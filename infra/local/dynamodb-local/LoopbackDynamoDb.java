import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.CommandLineInput;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local (3.x) exactly like its own ServerRunner, but with the
 * Jetty connector bound to a single host (default 127.0.0.1) instead of every
 * interface.
 *
 * DynamoDB Local has no host option: DynamoDBProxyServer builds
 * {@code new org.eclipse.jetty.server.Server(port)}, whose ServerConnector
 * listens on 0.0.0.0. Here the server is built by
 * ServerRunner.createServerFromCommandLineArgs (so all the usual flags work:
 * -inMemory, -sharedDb, -port, -cors, ...), then, before it is started, the
 * host of each of its Jetty ServerConnectors is set.
 *
 * Telemetry is never configured, so nothing is sent anywhere (ServerRunner.main
 * is what would configure it).
 *
 * Usage: java -Dddb.host=127.0.0.1 -Dsqlite4java.library.path=LIB -cp LIB/*:CLASSES
 *        LoopbackDynamoDb -inMemory -sharedDb -port PORT -disableTelemetry
 */
public final class LoopbackDynamoDb {
    private LoopbackDynamoDb() {}

    public static void main(String[] args) throws Exception {
        String host = System.getProperty("ddb.host", "127.0.0.1");

        CommandLineInput cli = new CommandLineInput(args);
        if (!cli.init()) {
            // -help, or arguments that CommandLineInput rejected (it printed why).
            System.exit(2);
        }

        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);

        Field serverField = DynamoDBProxyServer.class.getDeclaredField("server");
        serverField.setAccessible(true);
        Server jetty = (Server) serverField.get(proxy);

        int bound = 0;
        for (Connector connector : jetty.getConnectors()) {
            if (connector instanceof ServerConnector) {
                ((ServerConnector) connector).setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            System.err.println("LoopbackDynamoDb: no Jetty ServerConnector found; refusing to listen on all interfaces");
            System.exit(3);
        }

        // safeStart() is Server.start() without DynamoDB Local's telemetry and
        // without swallowing a bind failure (start() only prints it).
        try {
            proxy.safeStart();
        } catch (Exception e) {
            System.err.println("LoopbackDynamoDb: could not start on " + host + ":" + cli.getPort() + ": " + e);
            try {
                jetty.stop();
            } catch (Exception ignored) {
                // exiting anyway
            }
            System.exit(1);
        }
        System.err.println("LoopbackDynamoDb: listening on http://" + host + ":" + cli.getPort());
        proxy.join();
    }
}
